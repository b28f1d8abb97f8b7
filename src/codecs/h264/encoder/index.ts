export { BitWriter } from './bit-writer.js';
export {
  type EncodePictureOptions,
  H264LosslessEncoder,
  type LosslessEncoderOptions,
  type PictureStats,
} from './encoder.js';
export { ChromaMode, Luma16x16Mode, matchChroma, matchLuma16x16 } from './intra-match.js';
export { buildNalUnit, NalUnitType, nalHeaderByte, unescapeRbsp } from './nal.js';
export {
  CONSTRAINT_FLAGS_CONSTRAINED_BASELINE,
  chooseLevel,
  makeSequenceParams,
  PROFILE_BASELINE,
  profileLevelId,
  type SequenceParams,
  writePps,
  writeSps,
} from './parameter-sets.js';
export { allocatePicture, type CroppedYuv420, cropPicture, type Yuv420Picture } from './picture.js';
export {
  parseTimestampSei,
  SMOLRTSP_TIMESTAMP_SEI_UUID,
  type TimestampSei,
  writeTimestampSei,
} from './sei.js';
