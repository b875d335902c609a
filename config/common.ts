import { z } from 'zod';

/** Pieces several config sections share. */
export const port = z.number().int().min(0).max(65535);
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
