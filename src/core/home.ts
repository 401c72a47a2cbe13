// The app's home folder: runs, recents and the backend probe's verdicts live under it.
import { homedir } from 'node:os';
import { join } from 'node:path';

export const defaultHome = (): string => process.env.MNIST_STUDIO_HOME ?? join(homedir(), '.mnist-studio');
