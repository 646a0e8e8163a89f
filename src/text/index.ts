// ingot.text: tokenizers (character, byte-level BPE, WordPiece) with Hugging Face tokenizer.json save/load,
// special tokens, templates, and batch padding/truncation into int32 tensors.
export { Tokenizer, type SpecialRole, type EncodeOptions, type BatchOptions, type DecodeOptions, type Encoding, type TokenizerParts } from "./tokenizer.js";
export { type AddedToken } from "./added.js";
export { padBatch, truncatePair, type BatchEncoding, type PadOptions, type PaddingConfig, type TruncationConfig, type Side } from "./batch.js";
export { PostProcessor, parseTemplate, type TemplatePiece } from "./post-process.js";
export { CharTokenizer, trainChar, type CharTrainOptions } from "./char.js";
export { BpeTokenizer, parseMergesTxt, type BpeOptions } from "./bpe.js";
export { trainBpe, learnMerges, type BpeTrainOptions, type MergeOptions } from "./train.js";
export { WordPieceTokenizer, trainWordPiece, BERT_SPECIAL_TOKENS, type WordPieceOptions, type WordPieceTrainOptions } from "./wordpiece.js";
export { bertNormalizer, type Normalizer, type BertNormalizerOptions, type WordSplitter } from "./normalize.js";
export { loadTokenizer, tokenizerFromJSON, loadBpeFiles, bpeFromVocabMerges, loadVocabTxt, wordPieceFromVocab, type Gpt2FilesOptions, type VocabTxtOptions } from "./load.js";
export { BYTE_TO_CHAR, CHAR_TO_BYTE, gpt2Split, byteLevel, bertSplit } from "./unicode.js";
