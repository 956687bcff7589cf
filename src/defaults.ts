/**
 * The shape of an options type's defaults object (`TRANSPORT_DEFAULTS`,
 * `PIPELINE_DEFAULTS`, ...): some of its options, each with a value of the
 * option's own type (lists and maps read-only). One such object per options
 * type holds every fixed default, next to the type; the code takes defaults
 * from it, and test/defaults.test.ts checks each against the option's
 * `@default`.
 */
export type Defaults<Options> = {
  readonly [K in keyof Options]?: ReadonlyValue<Exclude<Options[K], undefined>>;
};

type ReadonlyValue<T> = T extends readonly (infer Item)[] ? readonly Item[] : T;
