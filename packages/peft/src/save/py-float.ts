/** A number Python holds as a float, so JSON writes it `0.0`, not `0`. */
export class PyFloat {
  constructor(readonly value: number) {}
  toJSON(): number {
    return this.value;
  }
}
