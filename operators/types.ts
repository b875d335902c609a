/** The operators' records: declared once in records/, where the sinks read them too. */
export * from '../records/index.js';
