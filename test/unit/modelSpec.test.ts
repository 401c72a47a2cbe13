// The model spec: what it accepts, and the seed's network derived from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClassNameSchema, MNIST_SPEC, ModelSpecSchema, parseInput, digitClasses, type ModelSpec } from '@shared/modelSpec';
import { architectureOf, layersFor, PARAM_COUNT } from '@shared/architecture';
import { buildLayersModel } from '@core/model/layersModel';
import { formatSummary, modelSummary } from '@core/model/summary';

const spec = (over: Partial<ModelSpec>): unknown => ({ ...MNIST_SPEC, ...over });

test('the spec accepts sides that are multiples of 4 up to 64, 1 or 3 channels, 2 to 256 unique classes', () => {
  assert.ok(ModelSpecSchema.safeParse(MNIST_SPEC).success);
  assert.ok(ModelSpecSchema.safeParse(spec({ height: 64, width: 4, channels: 3, classes: digitClasses(256) })).success);
  for (const bad of [
    spec({ height: 30 }),
    spec({ width: 68 }),
    spec({ height: 0 }),
    spec({ channels: 2 as 1 }),
    spec({ classes: ['a'] }),
    spec({ classes: digitClasses(257) }),
    spec({ classes: ['a', 'a'] }),
    spec({ classes: ['a', ''] }),
    spec({ classes: ['a', 'b\nc'] }),
    spec({ mode: 'sketch' as 'photo' }),
    { ...MNIST_SPEC, extra: 1 },
  ]) {
    assert.equal(ModelSpecSchema.safeParse(bad).success, false, JSON.stringify(bad).slice(0, 80));
  }
});

test('class names: any script and spaces (ZWNJ too), but no control, text-direction or invisible characters (they would disguise a name)', () => {
  for (const name of ['cat', 'chat noir', 'café', '猫', 'كلب', 'T-shirt/top', 'می\u200cخواهم']) assert.ok(ClassNameSchema.safeParse(name).success, name);
  for (const name of ['a\nb', 'a\u0085b', '\u202egpj.cat', 'dog\u2066', 'x\u0000', 'a\u200fb', 'ca\u061ct', 'ca\u200bt', '\ufeffcat']) {
    const parsed = ClassNameSchema.safeParse(name);
    assert.ok(!parsed.success, JSON.stringify(name));
    assert.equal(parsed.error.issues[0]!.message, 'class names cannot hold control, text-direction or invisible characters');
  }
});

test('--input parses HxW and HxWxC and refuses what the network cannot take', () => {
  assert.deepEqual(parseInput('32x32x3'), { height: 32, width: 32, channels: 3 });
  assert.deepEqual(parseInput('28x28'), { height: 28, width: 28, channels: 1 });
  for (const bad of ['30x30', '32x32x2', '128x128x3', 'big', '32x', '']) assert.equal(typeof parseInput(bad), 'string', bad);
});

test("the default spec gives the seed's network exactly; others scale its shapes", () => {
  assert.equal(architectureOf(MNIST_SPEC).paramCount, 824458);
  assert.equal(PARAM_COUNT, 824458);
  const rgb: ModelSpec = { height: 32, width: 32, channels: 3, mode: 'photo', classes: ['cat', 'dog', 'owl'] };
  const layers = layersFor(rgb);
  assert.deepEqual(
    layers.map((l) => l.output),
    [[32, 32, 32], [32, 32, 32], [16, 16, 32], [16, 16, 64], [16, 16, 64], [8, 8, 64], [4096], [256], [256], [3]],
  );
  // 3*3*3*32+32, 3*3*32*64+64, 4096*256+256, 256*3+3
  assert.equal(architectureOf(rgb).paramCount, 896 + 18496 + 1048832 + 771);
  const model = buildLayersModel(rgb);
  assert.equal(model.countParams(), architectureOf(rgb).paramCount);
  assert.deepEqual((model.outputShape as number[]).slice(1), [3]);
  model.dispose();
  const summary = modelSummary(rgb);
  assert.equal(summary.totalParams, architectureOf(rgb).paramCount);
  const text = formatSummary(summary);
  assert.match(text, /input: 32x32x3 \(photo\); 3 classes: cat, dog, owl/);
});
