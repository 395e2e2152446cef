export { type ExtractOptions, extractPartners, type Partner, type Vec3 } from './extract-partners.js';
export { linearSumAssignment } from './linear-assignment.js';
export {
  type MatchScores,
  matchPairs,
  type PartnerPair,
  type Prf,
  prf,
  scorePartners,
} from './match-partners.js';
