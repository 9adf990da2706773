// electron-builder's afterPack hook (electron-builder.yml): flips the Electron fuses of the packaged
// binary. It runs after the app is copied in and before signing, so the signature covers the fuses
// and the OS refuses a binary whose fuses were flipped back.
import { join } from 'node:path';
import { FuseV1Options, FuseVersion, flipFuses } from '@electron/fuses';

/**
 * The fuses this app sets; the others keep Electron's defaults (GrantFileProtocolExtraPrivileges
 * stays on: the window loads its page from file://).
 */
export const FUSES = {
  version: FuseVersion.V1,
  // ELECTRON_RUN_AS_NODE would make the signed app a plain Node for anyone who sets it
  [FuseV1Options.RunAsNode]: false,
  // --inspect / SIGUSR1 would hand a debugger, and so the unlocked store's keys, to a local process
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  // NODE_OPTIONS=--require would load code of the environment's choosing into the main process
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  // app.asar must match the hash electron-builder embeds (macOS and Windows check it)...
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  // ...and nothing but that app.asar is loaded: no app/ folder planted beside it
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
  // whatever Chromium keeps in its cookie store is encrypted with the OS key
  [FuseV1Options.EnableCookieEncryption]: true,
};

const EXTENSIONS = { darwin: '.app', mas: '.app', win32: '.exe', linux: '' };

/** The packaged Electron binary, named as electron-builder names it on each platform. */
export function packagedBinary(context) {
  const { appOutDir, electronPlatformName, packager } = context;
  const extension = EXTENSIONS[electronPlatformName];
  if (extension === undefined) throw new Error(`afterPack: no fuses for platform ${electronPlatformName}`);
  const name = electronPlatformName === 'linux' ? packager.executableName : packager.appInfo.productFilename;
  return join(appOutDir, `${name}${extension}`);
}

export async function afterPack(context) {
  const mac = context.electronPlatformName === 'darwin' || context.electronPlatformName === 'mas';
  // changed bytes void the ad-hoc signature an Apple-silicon binary needs to start at all
  await flipFuses(packagedBinary(context), { ...FUSES, resetAdHocDarwinSignature: mac });
}
