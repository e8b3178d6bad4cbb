/**
 * vitest global setup. Services the tests need are started by the tests themselves on
 * 127.0.0.1 with free ports (see test/helpers/moto.ts); nothing global is needed yet.
 */
export default function setup(): void {}
