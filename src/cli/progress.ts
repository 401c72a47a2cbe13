// The terminal progress bar for `train`: one line redrawn in place on stderr, only on a TTY.
import type { TrainEvent } from '@shared/training';
import { percent } from '@shared/format';

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    r = s % 60;
  return `${h ? `${h}:` : ''}${String(m).padStart(h ? 2 : 1, '0')}:${String(r).padStart(2, '0')}`;
}

export class ProgressBar {
  private shown = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly epochs: number,
  ) {}

  update(e: Extract<TrainEvent, { type: 'progress' }>): void {
    const width = 30;
    const fraction = e.phase === 'training' ? e.step / e.stepsPerEpoch : e.tested / Math.max(1, e.testCount);
    const done = Math.round(fraction * width);
    const bar = `${'█'.repeat(done)}${'░'.repeat(width - done)}`;
    const where =
      e.phase === 'training' ? `${e.step}/${e.stepsPerEpoch}` : e.phase === 'evaluating' ? `testing ${e.tested}/${e.testCount}` : 'saving checkpoint';
    const text = `epoch ${e.epoch}/${this.epochs} ${bar} ${where}  loss ${e.loss.toFixed(4)}  acc ${percent(e.accuracy)}  ${Math.round(e.examplesPerSecond)} ex/s  ETA ${duration(e.etaSeconds)}`;
    this.stream.write(`\r\x1b[2K${text}`);
    this.shown = true;
  }

  /** Clears the bar so a normal line can be printed. */
  clear(): void {
    if (this.shown) this.stream.write('\r\x1b[2K');
    this.shown = false;
  }
}
