import { expect } from 'chai';
import { createRequire } from 'node:module';

const { isImport } = createRequire(import.meta.url)('../../instrumentation/loader-hooks.cjs') as {
  isImport: (conditions: unknown) => boolean;
};

describe('the ESM loader hook’s resolve check (instrumentation/loader-hooks.cjs)', () => {
  it('tells an import from a require, whether the conditions are an array or, as some Node 22 and 24 releases pass them for require(), a Set', () => {
    expect(isImport(['node', 'import', 'module-sync'])).to.equal(true);
    expect(isImport(['node', 'require', 'module-sync'])).to.equal(false);
    expect(isImport(new Set(['node', 'require']))).to.equal(false);
    expect(isImport(new Set(['node', 'import']))).to.equal(true);
    expect(isImport(undefined)).to.equal(false);
  });
});
