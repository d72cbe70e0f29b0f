// The cursor of WebhookOutbox.listFailed, shared by the engines and the
// route that validates it: "<event seq>.<base64url endpoint>", the position
// of the last row of the previous page in (event_seq, endpoint) order.

export interface DeliveryPosition {
  seq: number;
  endpoint: string;
}

export function encodeDeliveryCursor(p: DeliveryPosition): string {
  return `${p.seq}.${Buffer.from(p.endpoint).toString("base64url")}`;
}

/** The position, or null when `cursor` is not one this code made. */
export function decodeDeliveryCursor(cursor: string): DeliveryPosition | null {
  const match = /^(\d{1,15})\.([A-Za-z0-9_-]*)$/.exec(cursor);
  if (!match) return null;
  return { seq: Number(match[1]), endpoint: Buffer.from(match[2]!, "base64url").toString() };
}

/** Thrown by listFailed for a cursor decodeDeliveryCursor refuses (the route checks first and answers 400). */
export class InvalidCursorError extends Error {
  override name = "InvalidCursorError";
  constructor() {
    super("Invalid cursor");
  }
}
