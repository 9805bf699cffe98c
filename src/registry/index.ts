// Public surface of the registry client (what the CLI imports).
export { RegistryClient, MEDIA_TYPES, hostPlatform } from './client.ts';
export { parseReference, formatReference, ImageReferenceError, type ImageReference } from './ref.ts';
export { findCredentials, AuthFileError, type CredentialLookup } from './credentials.ts';
export { RegistryError, RegistryAuthError, PushError, isNotFound } from './errors.ts';
export { BlobSourceError } from './upload.ts';
export type { BlobSource, ImageToPush, PushResult, RegistryClientOptions, RegistryEvent, RemoteImage, RemoteManifest, Platform } from './types.ts';
