/**
 * Opens Plugboard's hosted connect flow over your page and resolves with the activation token
 * that your back end exchanges for the integration
 * (`GET /v1/connect/integration-by-token/{token}`).
 *
 * A drop-in for Kombo's `@kombo-api/connect`: `showKomboConnect` and the `KomboConnect…` error
 * classes are aliases, and the flow speaks the same `postMessage` protocol.
 *
 * @packageDocumentation
 */

/** Something that happened in the flow, for {@link ConnectOptions.onEvent}. */
export interface ConnectEvent {
  /**
   * `opened` (the flow was added to the page), `loaded` (its first page is shown), `closed`
   * (the user left without connecting), `succeeded` (connected; the promise resolves), or one of
   * the hosted flow's own: `step` (with `step`: `picker`, `consent`, `guide`, `credentials`,
   * `signin` (what to enter before signing in to an OAuth tool), `signin-end` (a sign-in that
   * did not connect, or is finishing), `success`, `problem`), `tool-selected` (with `tool`),
   * `verification-failed` (with `tool` and `reason`), `signin-failed` (with `tool` and
   * `reason`: `denied`, `closed`, `blocked`, `refused`, `vendor_error`, `exchange_failed`,
   * `unverified`, `link_problem`).
   */
  type: string;
  /** Details of the flow's own events. */
  [detail: string]: unknown;
}

/** Options of {@link showConnect}. */
export interface ConnectOptions {
  /**
   * Where to add the flow instead of `document.body`. It must be in the document. If the flow
   * is removed from the page before it ends, the promise rejects with
   * {@link ConnectCancelledError}.
   */
  container?: HTMLElement;
  /** Called with each {@link ConnectEvent}; exceptions it throws are ignored. */
  onEvent?: (event: ConnectEvent) => void;
}

/** The user closed the flow without connecting, or the flow was removed from the page. */
export class ConnectCancelledError extends Error {
  name = 'ConnectCancelledError';
}

/** Another flow is still open: only one can be open at a time. */
export class ConnectAlreadyOpenError extends Error {
  name = 'ConnectAlreadyOpenError';
}

let isOpen = false;
const CANCELLED = 'The user cancelled the flow!';

/**
 * Shows the flow of `link` (the `link` that `POST /v1/connect/create-link` returned) and
 * resolves with its activation token once the user has connected a tool.
 *
 * Rejects with {@link ConnectCancelledError} when the user closes the flow, with
 * {@link ConnectAlreadyOpenError} while another flow is open, and with a `TypeError` when `link`
 * is not an absolute URL or the container is not in the document.
 */
export function showConnect(link: string, options: ConnectOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    if (isOpen) return reject(new ConnectAlreadyOpenError('Already open'));
    const { container = document.body, onEvent } = options;
    // A relative or malformed link throws a TypeError here, which rejects the promise (as does
    // a detached container below).
    const url = new URL(link);
    if (!container.isConnected) throw TypeError('Container not in document');
    isOpen = true;
    const emit = (type: string, details?: object) => {
      try {
        onEvent?.({ ...details, type });
      } catch {
        // The operator's handler must not break the flow.
      }
    };
    const returnFocus = document.activeElement as HTMLElement | null;
    const style = 'position:fixed;inset:0;width:100%;height:100%;border:0;z-index:2147483647;';

    // Until the flow's first page is shown: a dimmed page and a spinner. The flow then paints
    // its own backdrop and dialog.
    const loading = document.createElement('div');
    loading.role = 'progressbar';
    loading.ariaLabel = 'Loading';
    loading.style.cssText = style + 'display:grid;place-items:center;background:#0f172a73';
    const spinner = loading.appendChild(document.createElement('div'));
    spinner.style.cssText = 'width:1em;height:1em;border-radius:50%;background:#fff';
    spinner.animate?.([{ opacity: 0.2 }], { duration: 600, direction: 'alternate', iterations: Infinity });

    const frame = document.createElement('iframe');
    frame.src = url.href;
    frame.title = 'Connect';
    frame.style.cssText = style + 'opacity:0;color-scheme:normal';

    const listening = new AbortController();
    const finish = (token: string | null, error?: Error) => {
      listening.abort();
      observer.disconnect();
      loading.remove();
      frame.remove();
      isOpen = false;
      returnFocus?.focus();
      emit(token ? 'succeeded' : 'closed');
      token ? resolve(token) : reject(error);
    };
    // Messages count only from this flow's own frame and origin.
    const onMessage = ({ source, origin, data }: MessageEvent) => {
      if (source !== frame.contentWindow || origin !== url.origin || !data) return;
      if (data.type === 'success') finish(data.data.activation_token);
      else if (data.type === 'close') finish(null, new ConnectCancelledError(CANCELLED));
      else if (data.type === 'event') emit(data.data.name, data.data);
    };
    // Escape works while the flow loads; once loaded, the flow handles it.
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && loading.isConnected) finish(null, new ConnectCancelledError(CANCELLED));
    };
    const observer = new MutationObserver(() => {
      if (!frame.isConnected) {
        finish(null, new ConnectCancelledError('The flow was removed'));
      }
    });
    frame.addEventListener('load', () => {
      loading.remove();
      frame.style.opacity = '';
      frame.focus();
      emit('loaded');
    }, { once: true });
    addEventListener('message', onMessage, listening);
    addEventListener('keydown', onKey, listening);
    container.append(loading, frame);
    observer.observe(document, { childList: true, subtree: true });
    emit('opened');
  });
}

export {
  showConnect as showKomboConnect,
  ConnectCancelledError as KomboConnectCancelledError,
  ConnectAlreadyOpenError as KomboConnectAlreadyOpenError,
};
