// Test-only instrument for the soak: on SIGUSR2 the server runs a full garbage
// collection (node --expose-gc) and reports its memory on stderr, so the soak
// compares retained memory rather than wherever V8's heap sawtooth happens to be.
process.on("SIGUSR2", () => {
  globalThis.gc?.();
  const m = process.memoryUsage();
  const mib = (n) => (n / 1048576).toFixed(1);
  process.stderr.write(
    `reliability-gc-done rss=${mib(m.rss)} heapTotal=${mib(m.heapTotal)} heapUsed=${mib(m.heapUsed)} external=${mib(m.external)}\n`,
  );
});
