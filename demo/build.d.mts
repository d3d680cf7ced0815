/** Build the demo page into `outdir` (default demo/dist); resolves to the folder. */
export function buildDemo(outdir?: string): Promise<string>;
