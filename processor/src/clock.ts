/** Milliseconds since the epoch. Everything in the processor that decides by the time takes one of these. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
