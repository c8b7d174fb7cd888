# The operator dashboard's texts (English only; other languages would sit beside this folder).

## Frame
skip-to-content = Skip to content
nav-label = Dashboard
nav-overview = Overview
nav-integrations = Integrations
nav-webhooks = Webhooks
nav-links = Links
nav-keys = API keys
nav-oauth = OAuth apps
nav-audit = Audit trail
nav-settings = Settings
optional = (optional)
switch-to = Switch to
env-production = Production
env-development = Development
role-viewer = viewer
sign-out = Sign out
back-to-dashboard = Back to the dashboard
copy = Copy
copied = Copied
any = Any
yes = Yes

## Times
just-now = just now
minutes-ago = { $count ->
    [one] a minute ago
   *[other] { $count } minutes ago
}
hours-ago = { $count ->
    [one] an hour ago
   *[other] { $count } hours ago
}
days-ago = { $count ->
    [one] yesterday
   *[other] { $count } days ago
}
in-minutes = { $count ->
    [one] in a minute
   *[other] in { $count } minutes
}
in-hours = { $count ->
    [one] in an hour
   *[other] in { $count } hours
}
in-days = { $count ->
    [one] tomorrow
   *[other] in { $count } days
}

## Notices after an action
notice-disabled = The integration is disabled. Its credentials are kept; enable it to use it again.
notice-enabled = The integration is enabled.
notice-deleted = The integration and its credentials were deleted.
notice-check-scheduled = The credentials will be checked within moments; reload to see the result.
notice-endpoint-saved = The endpoint is saved.
notice-endpoint-enabled = The endpoint is enabled; deliveries that waited are being sent.
notice-endpoint-disabled = The endpoint is disabled; its deliveries wait until it is enabled again.
notice-endpoint-deleted = The endpoint and its delivery log were deleted.
notice-test-sent = A webhook-test event is queued for this endpoint; reload to see the attempt.
notice-redelivery-queued = The delivery is queued again; reload to see the attempt.
notice-link-revoked = The link is revoked: it no longer opens, also for someone in the middle of the flow.
notice-key-revoked = The key is revoked. Servers stop accepting it within 10 seconds.
notice-oauth-saved = The OAuth app is saved as a new revision. New connections use it; existing ones keep theirs.
notice-oauth-removed = The OAuth app is removed: end users can no longer sign in to the tool here. Existing integrations keep refreshing.
notice-settings-saved = Saved. The flow uses the new settings now on this server, within 5 seconds on the others.
notice-signed-out = You are signed out.
notice-signed-out-everywhere = You are signed out on every device.

## Errors
error-invalid-title = That did not work
error-not-found-title = Not found
error-no-page = There is no such page in the dashboard.
error-unavailable-title = The database is unavailable
error-unavailable-body = Plugboard cannot reach its database right now. Try again in a moment.
error-server-title = Something went wrong
error-server-body = Plugboard could not show this page. The error was logged; try again, and tell your administrator if it persists.
error-forged-title = This form cannot be accepted
error-forged-body = The form expired or did not come from this dashboard. Go back, reload the page and try again.
error-forged-signin = This sign-in form did not come from this dashboard. Open the dashboard's own sign-in page and try again.
error-form-too-large = The form is too large.
error-control-characters = The address or the form holds characters it cannot have (such as a NUL or a line break). Check what was typed or pasted.
error-form-invalid = The form could not be read: { $detail }
error-viewer-title = Only administrators can do this
error-viewer-body = Your account can see everything but change nothing. Ask an administrator.

## Signing in
signin-title = Sign in
field-email = E-mail address
field-password = Password
signin-submit = Sign in
signin-help = No account yet, or forgot your password? An administrator runs `plugboard operators create` or `plugboard operators reset` and sends you a sign-in link.
signin-wrong = The e-mail address or the password is not right.
signin-locked = { $minutes ->
    [one] Too many wrong passwords for this account. Try again in a minute.
   *[other] Too many wrong passwords for this account. Try again in { $minutes } minutes.
}
signin-too-many = { $seconds ->
    [one] Too many sign-in attempts from your address. Try again in a second.
   *[other] Too many sign-in attempts from your address. Try again in { $seconds } seconds.
}
signin-or = or
signin-sso = Sign in with { $name }
signin-sso-default = single sign-on
signin-sso-disabled = Single sign-on is not configured on this server.
signin-sso-expired = The sign-in expired or was started in another browser. Try again.
signin-sso-no-email = Your identity provider did not confirm an e-mail address for you.
signin-sso-refused = Your identity provider did not sign you in.
signin-sso-failed = Your identity provider could not be reached or gave an answer that did not verify. Try again, and tell your administrator if it persists.
signin-sso-no-account = Your identity provider signed you in, but there is no dashboard account for your address. Ask an administrator to create one (plugboard operators create).
welcome-title = Choose your password
welcome-lead = You will sign in as
field-new-password = New password
field-confirm-password = The same password again
password-hint = { $count ->
    [one] At least one character.
   *[other] At least { $count } characters. A passphrase of a few words is good.
}
welcome-submit = Save and sign in
welcome-mismatch = The two passwords differ.
welcome-invalid = The password { $problem }.
welcome-unusable-title = This sign-in link cannot be used

## Overview
overview-title = Overview
overview-integrations = Integrations
overview-flows = Connection flows in the last 24 hours
overview-webhooks = Webhooks in the last 24 hours
flows-opened = opened
flows-completed = completed
flows-failed = failed to verify
chart-description = { $what }: { $total } in the last 24 hours, at most { $max } in an hour.
deliveries-failed = deliveries failed
deliveries-retrying = deliveries retrying
deliveries-succeeded = deliveries succeeded
endpoints-disabled = endpoints disabled

## Statuses and categories
status-active = Active
status-failing = Credentials failing
status-invalid = Invalid
status-inactive = Disabled
category-hris = HRIS
category-ats = ATS
category-assessment = Assessment
category-lms = LMS

## Integrations
integrations-title = Integrations
integrations-search-label = Search integrations
integrations-search = Search
integrations-search-hint = An organisation's name (or part of it), an e-mail address, your origin id or an integration id.
field-status = Status
field-tool = Tool
field-category = Category
filter-submit = Search
filter-clear = Clear
integrations-none = No integrations yet. They appear here when your customers complete the connection flow.
integrations-none-found = No integration matches.
col-organization = Organisation
col-tool = Tool
col-status = Status
col-end-user = End user
col-created = Created
col-when = When
col-action = Action
col-actor = By
col-request = Request
col-outcome = Outcome
col-duration = Time
next-page = Older integrations

## One integration
integration-about = Customer and tool
field-origin-id = Origin id
field-integration-id = Integration id
field-updated = Last changed
integration-health = Credentials
field-credentials = Given as
credentials-oauth = OAuth sign-in
credentials-fields = API credentials ({ $fields })
credentials-unreadable = Cannot be opened with the current master key (see the log)
field-token-expires = Access token expires
field-token-issued = Last refreshed
field-refresh-token = Refreshes on its own
no-relink-needed = No: the customer relinks when the token expires
token-no-expiry = Not said by the tool
field-failing-since = Refused by the tool since
credentials-working = Working
field-next-check = Next check
field-last-checked = Last checked
never-checked = not yet
integration-actions = Actions
action-relink = Create a relink link
action-check = Check credentials now
action-disable = Disable
action-enable = Enable
action-delete = Delete…
action-delete-confirm = Delete this integration
delete-warning = Deleting removes the integration and its credentials for good and sends integration-deleted to your webhooks.
delete-type-name = To confirm, type the organisation's name:
delete-confirm-mismatch = type the organisation's name exactly ({ $name }) to delete the integration
relink-created = Relink link created.
relink-created-hint = Send it to the customer: it opens the connection flow for this integration and works for a year, once.
relink-link = Relink link
integration-events = Status history and webhooks
integration-events-none = No events yet.
integration-event-no-endpoint = no endpoint subscribed
col-deliveries = Deliveries
integration-audit = Audit trail
integration-audit-none = No entries.
integration-requests = Passthrough calls
integration-requests-none = No calls yet.

## Webhooks
webhooks-title = Webhooks
webhooks-lead = Plugboard posts each event to every enabled endpoint that subscribes to its type, signed with the endpoint's secret, and retries for about two days.
webhooks-endpoints = Endpoints
webhooks-none = No endpoints yet.
webhooks-add = Add an endpoint
webhooks-add-submit = Add the endpoint
webhooks-url-hint = Your back end's address for events, e.g. https://app.example.com/webhooks/plugboard.
field-url = URL
field-events = Event types
field-confirm = Confirmation
field-endpoint-id = Endpoint id
field-previous-secret = Previous secret
previous-secret-until = still signs until
field-event-type = Event type
field-event-id = Event id (webhook-id)
field-next-attempt = Next attempt
col-url = URL
col-events = Event types
col-event = Event
col-attempts = Attempts
col-last-answer = Last answer
col-response = Response
endpoint-enabled = Enabled
endpoint-failing = Failing
endpoint-disabled = Disabled
endpoint-disabled-gone = Disabled: answered 410 Gone
endpoint-disabled-failing = Disabled: failing too long
endpoint-about = Endpoint
endpoint-edit = URL and event types
endpoint-save = Save
endpoint-test = Send a test event
endpoint-rotate = Rotate the secret
endpoint-rotate-hint = After a rotation the old secret keeps signing for 24 hours beside the new one, so you can deploy the new secret without losing a delivery.
endpoint-delete-warning = Deleting removes the endpoint and its delivery log for good. Deliveries still waiting are dropped.
endpoint-delete-type-url = To confirm, type the endpoint's URL:
endpoint-delete-confirm = Delete this endpoint
endpoint-delete-mismatch = type the endpoint's URL exactly to delete it
secret-title = The signing secret
secret-created = The endpoint { $url } is added. Its signing secret:
secret-rotated = The endpoint { $url } has a new signing secret:
secret-once = Copy it now: it is shown only this once. Plugboard keeps it encrypted and never shows it again.
secret-label = Signing secret
secret-continue = Continue to the endpoint
deliveries-title = Delivery log
deliveries-filter-label = Filter deliveries
deliveries-none = No deliveries yet.
deliveries-none-found = No delivery matches.
deliveries-older = Older deliveries
delivery-title = Delivery of { $type }
delivery-pending = Pending
delivery-waiting = Waiting
delivery-retrying = Retrying
delivery-succeeded = Delivered
delivery-failed = Failed
delivery-retry = Deliver again
attempts-title = Attempts
attempts-none = Not attempted yet.
payload-title = Payload

## Links
links-title = Connection links
links-lead = Magic links you send to a customer: each opens the connection flow in a tab of its own, works once and for a year. Embedded links are made by your app and are not listed.
links-none = No magic links yet.
links-create = Create a magic link
links-create-submit = Create the link
links-older = Older links
link-created = Magic link created.
link-created-hint = Copy it now and send it to your customer: it is not shown again.
link-label = Magic link
link-field-end-user-organization-name = Organisation
link-field-end-user-email = Contact e-mail
link-field-end-user-origin-id = Your id for the customer
link-field-integration-category = Category
link-field-integration-tool = Tool
link-field-language = Language
link-field-remote-environment = Tool environment
link-field-scope-config-id = Scope config
link-tool-any = Let the customer choose
link-language-browser = The customer's browser language
link-choose-category = choose a category
link-choose-language = choose one of the languages offered
link-any-tool = any { $category } tool
link-relink = relink
link-relinks = Relinks
link-the-integration = the integration
field-link-id = Link id
field-expires = Expires
col-offers = Offers
col-last-step = Last step
link-revoked = Revoked
link-used = Used
link-expired = Expired
link-failed = Refused: { $why }
link-opened = Opened
link-not-opened = Not opened
link-revoke = Revoke the link
link-steps = What the customer did
link-steps-none = The customer has not opened the link yet.
step-opened = Opened the link
step-tool-chosen = Chose a tool
step-credentials-submitted = Submitted credentials
step-verification-failed = The tool refused the credentials
step-verification-succeeded = The tool accepted the credentials
step-completed = Connected
step-signin-started = Went to sign in
step-by-operator = Operator: { $action }
outcome-invalid_credentials = the tool did not accept the credentials
outcome-missing_permission = the credentials lack a permission
outcome-wrong_instance = the tool found no such account (subdomain or instance)
outcome-rate_limited = the tool was rate limiting
outcome-unreachable = the tool could not be reached
outcome-unknown = no reason recorded

## API keys
keys-title = API keys
keys-lead = Your back end authenticates to Plugboard's API with these keys. Each acts in this environment only.
keys-none = No API keys yet.
keys-create = Create an API key
keys-create-submit = Create the key
field-key-name = Name
key-name-hint = A label to recognise the key by, e.g. "production back end".
col-key = Key
col-last-used = Last used
key-never-used = never
key-active = Active
key-revoked = Revoked
key-revoke = Revoke…
key-revoke-warning = Requests with this key are refused from now on (within 10 seconds on every server).
key-revoke-confirm = Revoke
key-created-title = Your new API key
key-created = The key "{ $name }":
key-continue = Back to the API keys

## OAuth apps
oauth-title = OAuth apps
oauth-lead = End users sign in to these tools with your OAuth app at the vendor. Register an app there with this redirect URI, then save its client here.
oauth-redirect-uri = Redirect URI
oauth-configured = Configured
oauth-not-configured = Not configured
oauth-revision = revision
oauth-saved-at = saved
oauth-revisions-hint = Each save is a new revision: new connections use the latest, existing integrations keep refreshing with theirs.
oauth-register-at-vendor = How to register the app at the vendor:
oauth-save-first = Save the app
oauth-save-new = Save a new revision
oauth-save = Save
oauth-secret-hint = Stored encrypted and never shown again; enter it again with every new revision.
oauth-scopes-hint = Separated by spaces. Leave empty for the catalog's:
oauth-remove = Remove…
oauth-remove-warning = End users can no longer sign in to this tool in this environment (an OAuth-only tool leaves the picker). Integrations already connected keep refreshing with their revision.
oauth-remove-confirm = Remove the app
field-client-id = Client id
field-client-secret = Client secret
field-scopes = Scopes
col-saved = Saved

## Audit trail
audit-title = Audit trail
audit-filter-label = Filter the audit trail
audit-none = No entries yet.
audit-none-found = No entry matches.
audit-older = Older entries
col-target = Target
col-ip = Address
col-detail = Detail

## Settings
settings-title = Settings
settings-lead = How the connection flow of this environment presents itself. An empty field keeps the server's configured value, shown greyed.
settings-edit = Flow settings
settings-product-name = Product name
settings-product-name-hint = Your product's name, shown in the flow's header and its guides (at most 60 characters).
settings-frame-ancestors = Sites allowed to embed the flow
settings-frame-ancestors-hint = Origins separated by spaces, e.g. https://app.example.com https://*.example.com; 'self' for this server; 'none' for no site. The flow posts its result only to one of them.
settings-framing-now = Embedding allowed now
settings-saved-at = Last saved
settings-save = Save
settings-framing-open = Any site may embed production links: a page framing one receives the activation token. Name your app's origin.
