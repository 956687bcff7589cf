/** Makers of values that break serializers and log calls, shared by the hostile-input tests. */

/** A function that throws `what`: a getter or a Proxy trap. */
export function thrower(what: string): () => never {
  return () => {
    throw new Error(what);
  };
}

/** An Error whose own `key` is a getter that throws. */
export function errorWithThrowing(key: string, enumerable = false): Error {
  const error = new Error(`hostile ${key}`);
  Object.defineProperty(error, key, { get: thrower(`${key} getter`), enumerable });
  return error;
}

const ALL_TRAPS = ['get', 'apply', 'getPrototypeOf', 'ownKeys', 'has', 'getOwnPropertyDescriptor'];

/** A Proxy whose every trap a log call may meet throws. */
export function throwingProxy<T extends object>(target: T): T {
  return new Proxy(target, Object.fromEntries(ALL_TRAPS.map((t) => [t, thrower(`${t} trap`)])));
}

/** A revoked Proxy: any operation on it throws. */
export function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}
