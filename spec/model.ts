/** The top-level bioimage.io model description (format 0.5). */

import provenance from './schemas/generated/provenance.json' with { type: 'json' };
import type { FileDescr, InputTensor, OutputTensor } from './tensors.js';
import type { Weights } from './weights.js';

/** What we write: ilastik 1.4.1's spec library rejects fields newer than 0.5.4. */
export const WRITE_FORMAT_VERSION = '0.5.4';
/** The 0.5 patch version of the bundled JSON schema (what bioimageio.spec bumps 0.5.x to). */
export const SCHEMA_FORMAT_VERSION_0_5: string = provenance.model_format_versions['0.5'];
export const SCHEMA_FORMAT_VERSION_0_4: string = provenance.model_format_versions['0.4'];
/** The bioimageio.spec release the bundled schemas were generated from. */
export const BIOIMAGEIO_SPEC_VERSION: string = provenance['bioimageio.spec'];

export interface Author {
  readonly name: string;
  readonly affiliation?: string | null;
  readonly email?: string | null;
  readonly orcid?: string | null;
  readonly github_user?: string | null;
}

export interface Maintainer extends Omit<Author, 'name' | 'github_user'> {
  readonly name?: string | null;
  readonly github_user: string;
}

export interface CiteEntry {
  readonly text: string;
  readonly doi?: string | null;
  readonly url?: string | null;
}

export interface LinkedResource {
  readonly id: string;
  readonly version?: string | number | null;
}

export interface ModelDescr {
  readonly type: 'model';
  /** As written in the source; 0.4 sources are converted and keep their original version here. */
  readonly format_version: string;
  readonly name: string;
  readonly description?: string;
  readonly authors?: readonly Author[];
  readonly maintainers?: readonly Maintainer[];
  readonly packaged_by?: readonly Author[];
  readonly cite?: readonly CiteEntry[];
  readonly license?: string | null;
  readonly documentation?: string | null;
  readonly covers?: readonly string[];
  readonly attachments?: readonly FileDescr[];
  readonly tags?: readonly string[];
  readonly links?: readonly string[];
  readonly id?: string | null;
  readonly id_emoji?: string | null;
  readonly icon?: string | null;
  readonly git_repo?: string | null;
  readonly version?: string | number | null;
  readonly version_comment?: string | null;
  readonly timestamp?: string;
  readonly parent?: LinkedResource | null;
  readonly training_data?: unknown;
  readonly run_mode?: { readonly name: string; readonly kwargs?: Record<string, unknown> } | null;
  readonly uploader?: { readonly email: string; readonly name?: string | null } | null;
  readonly inputs: readonly InputTensor[];
  readonly outputs: readonly OutputTensor[];
  readonly weights: Weights;
  readonly config?: Readonly<Record<string, unknown>>;
}
