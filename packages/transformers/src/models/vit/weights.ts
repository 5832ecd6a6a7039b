/**
 * ViT checkpoint names (Python's, unchanged): the classifier is built without the pooler, so
 * a checkpoint saved from `ViTModel` loads into it with the pooler's weights ignored.
 */
export const VIT_CLASSIFIER_IGNORED_KEYS: readonly RegExp[] = [/(^|\.)pooler\.dense\./];
