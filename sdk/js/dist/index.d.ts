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
export declare class ConnectCancelledError extends Error {
    name: string;
}
/** Another flow is still open: only one can be open at a time. */
export declare class ConnectAlreadyOpenError extends Error {
    name: string;
}
/**
 * Shows the flow of `link` (the `link` that `POST /v1/connect/create-link` returned) and
 * resolves with its activation token once the user has connected a tool.
 *
 * Rejects with {@link ConnectCancelledError} when the user closes the flow, with
 * {@link ConnectAlreadyOpenError} while another flow is open, and with a `TypeError` when `link`
 * is not an absolute URL or the container is not in the document.
 */
export declare function showConnect(link: string, options?: ConnectOptions): Promise<string>;
export { showConnect as showKomboConnect, ConnectCancelledError as KomboConnectCancelledError, ConnectAlreadyOpenError as KomboConnectAlreadyOpenError, };
