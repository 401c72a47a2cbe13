// The one place tfjs is set up: core plus the cpu backend, in production mode (no debug checks and no
// "install tfjs-node" banner, which would be noise in the CLI and the app's logs).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

tf.env().set('PROD', true);

export { tf };
