// toStudioError: every domain error reaches the API, the worker's replies and the CLI with its own code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERROR_CODES, StudioFailure, toStudioError, type ErrorCode } from '@shared/errors';
import { StudioCallError } from '@shared/api';
import { GpuError } from '@gpu/gpuEngine';
import { UnsupportedModelError } from '@gpu/geometry';
import { BackendUnavailableError } from '@core/backend/backends';
import { KernelThreadError } from '@core/backend/kernelThreads';
import { UploadError } from '@core/service/uploads';
import { FileReadError, readRegularFile } from '@core/store/files';
import { ModelFileError } from '@core/store/modelValidation';
import { parseImages } from '@core/dataset/idx';
import { ImageRefused } from '@core/dataset/decode';
import { FileRefused } from '@core/dataset/fileRefused';
import { ImportCancelled } from '@core/dataset/folderImport';
import { UsageError, UsageExit } from '../../src/cli/options';

const thrown = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  assert.fail('expected a throw');
};

const DOMAIN_ERRORS: [string, Error, ErrorCode][] = [
  ['BackendUnavailableError', new BackendUnavailableError('backend native is unavailable: no tfjs-node'), 'backend-unavailable'],
  ['GpuError', new GpuError('the GPU device was lost (destroyed): gone'), 'backend-failed'],
  // The model is sound (the CPU backends train it); the webgpu kernels cannot: choose another backend.
  ['UnsupportedModelError', new UnsupportedModelError('the webgpu kernels need odd SAME convolutions and 2x2 pools'), 'backend-unavailable'],
  ['KernelThreadError', new KernelThreadError('kernel thread 2 died: exited with code 70'), 'backend-failed'],
  ['UploadError', new UploadError('a/b.png: sent twice'), 'bad-request'],
  ['FileReadError', thrown(() => readRegularFile(mkdtempSync(join(tmpdir(), 'errors-')), 1024)) as Error, 'bad-request'],
  ['ModelFileError', new ModelFileError('model.json: not JSON'), 'bad-model'],
  ['DataError', thrown(() => parseImages(new Uint8Array(7), 'train-images-idx3-ubyte')) as Error, 'bad-data'],
  ['ImageRefused', new ImageRefused('not an image sharp can decode'), 'bad-data'],
  ['FileRefused', new FileRefused('larger than 16 MB'), 'bad-data'],
  ['ImportCancelled', new ImportCancelled(), 'cancelled'],
  ['StudioCallError', StudioCallError.of('busy', 'a run is already training: stop it first'), 'busy'],
  ['UsageError', new UsageError('--resume keeps writing checkpoints to its own folder; leave out --checkpoint'), 'bad-request'],
  ['UsageExit', new UsageExit('predict could not classify every file'), 'bad-request'],
];

test('every domain error keeps its code and message through toStudioError', () => {
  assert.ok(DOMAIN_ERRORS[5]![1] instanceof FileReadError, 'reading a folder is refused with a FileReadError');
  for (const [name, error, code] of DOMAIN_ERRORS) {
    assert.ok(error instanceof StudioFailure, `${name} is a StudioFailure`);
    assert.ok(ERROR_CODES.includes(error.code), `${name}'s code is an error code`);
    assert.deepEqual(toStudioError(error), { code, message: error.message }, name);
  }
});

test("the file system's refusals are bad requests naming the path; anything else is internal", () => {
  const denied = Object.assign(new Error('EACCES: permission denied, open'), { code: 'EACCES', path: '/models/a' });
  assert.deepEqual(toStudioError(denied), { code: 'bad-request', message: '/models/a: permission denied' });
  assert.deepEqual(toStudioError({ code: 'ENOSPC' }), { code: 'bad-request', message: 'a file: no space left on the disk' });
  const long = thrown(() => statSync(join(tmpdir(), 'n'.repeat(300))));
  assert.deepEqual(toStudioError(long), { code: 'bad-request', message: `${join(tmpdir(), 'n'.repeat(300))}: the name is too long` });
  assert.deepEqual(toStudioError(new TypeError('x is not a function')), { code: 'internal', message: 'x is not a function' });
  // A code that names something on every object's prototype is not a refusal.
  assert.deepEqual(toStudioError(Object.assign(new Error('odd'), { code: 'toString' })), { code: 'internal', message: 'odd' });
  // Nor is a look-alike of a domain error: only the classes carry codes.
  assert.deepEqual(toStudioError(Object.assign(new Error('lost'), { code: 'backend-failed' })), { code: 'internal', message: 'lost' });
  assert.deepEqual(toStudioError('a string'), { code: 'internal', message: 'a string' });
  assert.deepEqual(toStudioError(undefined), { code: 'internal', message: 'undefined' });
  assert.deepEqual(toStudioError(null), { code: 'internal', message: 'null' });
});
