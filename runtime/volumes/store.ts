import { resolve } from 'node:path';
import FileSystemStore from '@zarrita/storage/fs';
import * as zarr from 'zarrita';

/** A zarr store from a local directory or an http(s) URL (read-only). */
export function storeFor(location: string): FileSystemStore | zarr.FetchStore {
  if (/^https?:\/\//.test(location)) return new zarr.FetchStore(location.replace(/\/+$/, ''));
  return new FileSystemStore(resolve(location));
}

export function isRemote(location: string): boolean {
  return /^https?:\/\//.test(location);
}
