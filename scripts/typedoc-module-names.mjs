// @ts-check
/**
 * A typedoc plugin (typedoc.json `plugin`): names each documented module by
 * the specifier a user imports it with (`otel-winston`, `otel-winston/express`)
 * rather than by its path under src/ (`index`, `middleware/express`), and
 * fails the run when typedoc.json's `entryPoints` and package.json's `exports`
 * no longer name the same modules.
 */
import { readFileSync } from 'node:fs';
import { URL } from 'node:url';
import { Converter, ReflectionKind } from 'typedoc';

/**
 * The module name typedoc gives each entry of package.json `exports` that has
 * types (its path under src/, without `.ts` and a trailing `/index`), mapped
 * to the specifier that imports it.
 *
 * @returns {Map<string, string>}
 */
export function specifiersByModuleName() {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  /** @type {Map<string, string>} */
  const names = new Map();
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const types = target?.import?.types;
    if (typeof types !== 'string') continue;
    const module = types.replace(/^\.\/dist\/esm\//, '').replace(/\.d\.ts$/, '');
    const name = module === 'index' ? module : module.replace(/\/index$/, '');
    names.set(name, subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`);
  }
  return names;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const specifiers = specifiersByModuleName();
    const modules = context.project.getChildrenByKind(ReflectionKind.Module);
    for (const module of modules) {
      const specifier = specifiers.get(module.name);
      if (specifier === undefined) {
        app.logger.error(`The entry point ${module.name} is not in package.json exports`);
        continue;
      }
      specifiers.delete(module.name);
      module.name = specifier;
    }
    for (const [name, specifier] of specifiers) {
      app.logger.error(
        `${specifier} (src/${name}) is exported but not in typedoc.json entryPoints`,
      );
    }
  });
}
