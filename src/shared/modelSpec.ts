// The shape of a model as a value: its input (height x width x channels), how pictures are turned into
// that input, and the names of its classes. The seed's network and everything that depends on its shape
// (kernels, tfjs model, validation, views) are derived from one of these. MNIST is the default.
import { z } from 'zod';
import { NOT_IN_NAMES } from './format';

export const INPUT_MODES = ['drawing', 'photo'] as const;
/** drawing: MNIST's preprocessing (greyscale, ink centred); photo: the picture centre-cropped and resized. */
export type InputMode = (typeof INPUT_MODES)[number];

export const MAX_SIDE = 64;
export const MIN_CLASSES = 2;
export const MAX_CLASSES = 256;
export const MAX_CLASS_NAME = 64;

const side = z
  .number()
  .int()
  .min(4)
  .max(MAX_SIDE)
  .refine((n) => n % 4 === 0, 'must be a multiple of 4 (two 2x2 pools)');

/** A class name: shown as text only; control characters are refused so a name is always one printable line. */
export const ClassNameSchema = z
  .string()
  .min(1)
  .max(MAX_CLASS_NAME)
  // Names are shown in charts, captions and files: a direction override could make one read as another.
  .refine((s) => !NOT_IN_NAMES.test(s), 'class names cannot hold control, text-direction or invisible characters')
  .refine((s) => s.trim() !== '', 'class names cannot be blank');

/** An input shape the network takes: H x W x C. */
export const InputShapeSchema = z.object({ height: side, width: side, channels: z.union([z.literal(1), z.literal(3)]) }).strict();
export type InputShape = z.infer<typeof InputShapeSchema>;

export const ModelSpecSchema = z
  .object({
    ...InputShapeSchema.shape,
    mode: z.enum(INPUT_MODES),
    classes: z.array(ClassNameSchema).min(MIN_CLASSES).max(MAX_CLASSES),
  })
  .strict()
  .refine((s) => new Set(s.classes).size === s.classes.length, 'class names must be unique');

export type ModelSpec = z.infer<typeof ModelSpecSchema>;

export const digitClasses = (k: number): string[] => Array.from({ length: k }, (_, i) => String(i));

/** The seed's MNIST: 28x28 greyscale drawings of the digits 0 to 9. */
export const MNIST_SPEC: ModelSpec = Object.freeze({
  height: 28,
  width: 28,
  channels: 1,
  mode: 'drawing',
  classes: Object.freeze(digitClasses(10)) as string[],
});

/** Values per input image: height x width x channels. */
export const inputSize = (spec: Pick<ModelSpec, 'height' | 'width' | 'channels'>): number => spec.height * spec.width * spec.channels;

/** "28x28x1": how the CLI's --input flag and the UI write an input shape. */
export const inputLabel = (spec: Pick<ModelSpec, 'height' | 'width' | 'channels'>): string => `${spec.height}x${spec.width}x${spec.channels}`;

/** Parses "32x32x3" (or "32x32", greyscale) into height, width and channels, or says what is wrong. */
export function parseInput(text: string): InputShape | string {
  const m = /^(\d{1,3})x(\d{1,3})(?:x(\d))?$/.exec(text.trim());
  if (!m) return 'expected HxW or HxWxC, e.g. 32x32x3';
  const shape = { height: Number(m[1]), width: Number(m[2]), channels: Number(m[3] ?? 1) };
  const parsed = InputShapeSchema.safeParse(shape);
  if (!parsed.success) return `${text}: height and width must be multiples of 4 up to ${MAX_SIDE}, channels 1 or 3`;
  return parsed.data;
}

/** Whether the Draw view fits a model: it draws greyscale strokes through the drawing preprocessing. */
export const drawable = (spec: ModelSpec): boolean => spec.mode === 'drawing' && spec.channels === 1;

export const sameSpec = (a: ModelSpec, b: ModelSpec): boolean =>
  a.height === b.height &&
  a.width === b.width &&
  a.channels === b.channels &&
  a.mode === b.mode &&
  a.classes.length === b.classes.length &&
  a.classes.every((c, i) => c === b.classes[i]);
