// The script-tag bundle: everything on one global, `PlugboardConnect`.
import {
  ConnectAlreadyOpenError,
  ConnectCancelledError,
  showConnect,
} from './index';

declare global {
  interface Window {
    /** The SDK, when loaded with a script tag. */
    PlugboardConnect: unknown;
  }
}

window.PlugboardConnect = {
  showConnect,
  showKomboConnect: showConnect,
  ConnectCancelledError,
  ConnectAlreadyOpenError,
  KomboConnectCancelledError: ConnectCancelledError,
  KomboConnectAlreadyOpenError: ConnectAlreadyOpenError,
};
