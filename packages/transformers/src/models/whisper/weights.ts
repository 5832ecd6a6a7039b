/**
 * Whisper checkpoint names (Python's, unchanged, under `model.`): the output projection
 * `proj_out` is tied to the decoder's token embedding and is absent from checkpoints; the
 * encoder's sinusoidal `embed_positions` is stored like any weight.
 */
export const WHISPER_TIED_WEIGHTS = { "proj_out.weight": "model.decoder.embed_tokens.weight" } as const;
