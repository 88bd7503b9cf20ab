/**
 * A JSON number kept as the literal text the client sent. Request bodies are
 * parsed losslessly so that `10.005` is seen as written and never rounded.
 */
export class JsonNumber {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}
