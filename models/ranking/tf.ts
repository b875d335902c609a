/**
 * TensorFlow.js for the nearline ranker fit, one code path for both packages: the native
 * `@tensorflow/tfjs-node` where it installed (an optional dependency whose binary download fails
 * on some machines), else the pure-JavaScript `@tensorflow/tfjs`, which has the same API.
 * Loaded on first use only, so processes that never train never pay for it.
 */
import { createRequire } from 'node:module';

export type Tf = typeof import('@tensorflow/tfjs');

export interface LoadedTf {
  readonly tf: Tf;
  /** Which package answered: the native binding or the pure-JS one. */
  readonly backend: 'tfjs-node' | 'tfjs';
}

let loading: Promise<LoadedTf> | undefined;
let loaded: LoadedTf | undefined;

/** The first call decides; later calls get the same module. */
export function loadTf(): Promise<LoadedTf> {
  if (loaded) return Promise.resolve(loaded);
  loading ??= (async (): Promise<LoadedTf> => {
    // a variable specifier: the type checker must not require the optional package to exist
    const native = '@tensorflow/tfjs-node';
    try {
      const tf = (await import(native)) as Tf;
      return (loaded = { tf, backend: 'tfjs-node' });
    } catch {
      const tf = await import('@tensorflow/tfjs');
      // PROD silences the "install the node backend" banner: the fallback is deliberate, and
      // callers report which package is in use
      tf.env().set('PROD', true);
      await tf.setBackend('cpu');
      return (loaded = { tf, backend: 'tfjs' });
    }
  })();
  return loading;
}

/**
 * The same choice, synchronously (CommonJS builds of both packages): a model that trains
 * between two events of a replay cannot await. The CPU backend initialises synchronously.
 */
export function loadTfSync(): LoadedTf {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  try {
    loaded = { tf: require('@tensorflow/tfjs-node') as Tf, backend: 'tfjs-node' };
  } catch {
    const tf = require('@tensorflow/tfjs') as Tf;
    tf.env().set('PROD', true);
    void tf.setBackend('cpu');
    loaded = { tf, backend: 'tfjs' };
  }
  return loaded;
}
