// V8 gives an object field the representation of the first value stored in it. A field that
// starts as a small integer and later receives a double (an address above 2^31, a count past it,
// a fraction, -Infinity) is widened then, which deprecates the object's hidden class and
// deoptimizes every function that has seen it -- the run loop and the instruction handlers,
// mid-boot. Fields that will hold such values are made doubles at construction instead.

/** Make the fields `keys` of `obj` (already initialized: private ones too) doubles, keeping their values. */
export function holdDoubles(obj: object, keys: readonly string[]): void {
  const o = obj as Record<string, unknown>;
  for (const k of keys) {
    if (!(k in o)) throw new Error(`holdDoubles: no field '${k}'`);
    const v = o[k];
    o[k] = 0.5;
    o[k] = v;
  }
}
