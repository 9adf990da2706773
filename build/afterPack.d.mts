// Types of afterPack.mjs for the tests (the hook itself is plain JavaScript: electron-builder loads it as is).
import type { FuseV1Config } from '@electron/fuses';

export interface PackContext {
  readonly appOutDir: string;
  readonly electronPlatformName: string;
  readonly packager: { readonly executableName: string; readonly appInfo: { readonly productFilename: string } };
}

export declare const FUSES: FuseV1Config;
export declare function packagedBinary(context: PackContext): string;
export declare function afterPack(context: PackContext): Promise<void>;
