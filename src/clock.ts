/**
 * The one source of "now". Tests and rehearsing ward systems move it (PUT /v1/clock);
 * it then runs on from the set instant, so durations still pass normally.
 */
export interface Clock {
  now(): Date;
}

export class AdjustableClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** The system clock's time, whatever this clock is set to (what reset() returns to). */
  systemNow(): Date {
    return new Date(Date.now());
  }

  set(instant: Date): void {
    this.offsetMs = instant.getTime() - Date.now();
  }

  reset(): void {
    this.offsetMs = 0;
  }

  get adjusted(): boolean {
    return this.offsetMs !== 0;
  }
}
