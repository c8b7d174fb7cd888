# The hosted connect flow, English. Every language has exactly these message ids (a test checks).
# { $product } is the operator's product name (PLUGBOARD_PRODUCT_NAME), or the generic phrase below.

product-generic = this app
close = Close
back = Back
continue = Continue
step-of = Step { $current } of { $total }

category-HRIS = HR software
category-ATS = recruiting software
category-ASSESSMENT = recruiting software
category-LMS = learning platform

picker-title = Which { $category } does { $organization } use?
picker-intro = Choose it to connect it to { $product }.
picker-search = Search
picker-empty = No tool matches your search.

consent-title = What { $product } will be able to do
consent-intro-scopes = Once connected, { $product } will be able to use your { $tool } account through its API, with the access you grant below:
consent-intro-account = Once connected, { $product } will be able to use your { $tool } account through its API, with the access of the credentials you enter. This can include:
consent-secure = Your credentials are sent over an encrypted connection, checked with { $tool }, and stored encrypted. You can disconnect at any time.

guide-title = Get your { $tool } credentials
guide-docs = { $tool } documentation (opens in a new tab)
guide-sandbox-1 = This is a test tool: no account is needed.
guide-sandbox-2 = Type any API key to connect. These keys show what failures look like: invalid, missing_scope, rate_limited; slow takes three seconds.

credentials-title = Connect { $tool }
credentials-intro = Enter the credentials from the previous step. They are checked with { $tool } before anything is saved.
credentials-submit = Connect
credentials-verifying = Checking with { $tool }…
credentials-secret-hint = Hidden as you type. It is never shown again.
credentials-error-summary = The connection did not work:

field-required = Fill in { $field }.
field-pattern = { $field } does not have the expected format.
field-too-long = { $field } can be at most { $max } characters long.
field-url = Enter a full address that starts with https://.
field-email = Enter a valid email address.

verify-invalid-credentials = { $tool } did not accept these credentials. Check them and try again.
verify-missing-permission = These credentials work, but they lack a permission this connection needs. Ask an administrator of { $tool } to grant it, then try again.
verify-wrong-instance = { $tool } could not find your account there. Check { $fields }.
verify-rate-limited = { $tool } is receiving too many requests right now. Wait a minute, then try again.
verify-unreachable = { $tool } could not be reached. Try again in a moment.
too-many-attempts = Too many attempts in a short time. { $seconds ->
        [one] Try again in { $seconds } second.
       *[other] Try again in { $seconds } seconds.
    }
form-expired = This form has expired. Go back and start again.

success-title = { $tool } is connected
success-body = { $organization } is now connected. You can close this window and return to { $product }.
success-done = Done
success-token = Development link opened outside an app: this is the activation token your back end would receive.

error-invalid-title = This link does not work
error-invalid-body = The link is incomplete or has been changed. Ask for a new link.
error-expired-title = This link has expired
error-expired-body = Links are only valid for a limited time. Ask for a new link to continue.
error-used-title = This link has already been used
error-used-body = A connection was completed with this link. To connect again, ask for a new link.
error-revoked-title = This link has been withdrawn
error-revoked-body = The link is no longer valid. Ask for a new link.
error-gone-title = This connection no longer exists
error-gone-body = The connection this link was meant to update has been removed. Ask for a new link.
error-tool-title = This tool cannot be connected here
error-tool-body = Go back and choose another tool.
error-signin-expired-title = This sign-in has expired
error-signin-expired-body = It was already used or took longer than 10 minutes. Close this window and start again.
error-server-title = Something went wrong
error-server-body = Please try again in a moment. If it keeps happening, ask for help.
error-forbidden-body = This request did not come from this page. Reload the page and try again.

model-hris_employees = Employees
model-hris_employees-desc = Names, work contact details, job titles and managers
model-hris_employments = Employments
model-hris_employments-desc = Contracts, employment types, start and end dates
model-hris_absences = Absences
model-hris_absences-desc = Time-off requests and their dates
model-hris_absence_types = Absence types
model-hris_absence_types-desc = The kinds of leave your company offers
model-hris_time_off_balances = Time-off balances
model-hris_time_off_balances-desc = Remaining leave per employee
model-hris_teams = Teams
model-hris_teams-desc = Departments, teams and their members
model-hris_locations = Locations
model-hris_locations-desc = Offices and work sites
model-hris_legal_entities = Legal entities
model-hris_legal_entities-desc = The companies employees are employed by
model-ats_jobs = Jobs
model-ats_jobs-desc = Open and closed positions
model-ats_candidates = Candidates
model-ats_candidates-desc = Names, contact details and resumes
model-ats_applications = Applications
model-ats_applications-desc = Which candidate applied to which job, and the current stage
model-ats_application_stages = Application stages
model-ats_application_stages-desc = The steps of your hiring process
model-ats_users = Users
model-ats_users-desc = Recruiters and hiring managers
model-ats_interviews = Interviews
model-ats_interviews-desc = Scheduled interviews and interviewers
model-ats_offers = Offers
model-ats_offers-desc = Offers made to candidates
model-ats_tags = Tags
model-ats_tags-desc = Labels on candidates
model-lms_users = Learners
model-lms_users-desc = Names and work email addresses
model-lms_courses = Courses
model-lms_courses-desc = Course titles, descriptions and providers
model-lms_course_progressions = Course progress
model-lms_course_progressions-desc = Who is enrolled in which course, and completion
model-lms_skills = Skills
model-lms_skills-desc = Skills that courses teach

# Signing in to an OAuth tool
signin-button = Sign in with { $tool }
signin-waiting = Waiting for you to sign in to { $tool } in the window that opened…
signin-form-title = Sign in to { $tool }
signin-form-intro = Enter these details so that we can take you to your { $tool } sign-in page.
signin-callback-done-title = Signed in
signin-callback-done = You can close this window; the connection continues in the other one.
signin-callback-failed = Close this window; the other one says what happened and how to try again.
signin-failed-title = Not connected
signin-denied = Access was declined in { $tool }. To connect, sign in again and allow access.
signin-vendor-error = { $tool } could not complete the sign-in. Please try again in a moment.
signin-refused = The sign-in could not be confirmed for this browser. Please start it again from here.
signin-exchange-failed = { $tool } did not confirm the sign-in. Please try again; if it keeps failing, contact support.
signin-unverified = You signed in, but { $tool } does not give this account access to its data. Sign in with an administrator account.
signin-closed = The sign-in window was closed before the sign-in finished.
signin-blocked = Your browser blocked the sign-in window. Allow pop-ups for this site, or try again.
signin-link-problem = This link can no longer be used. Please ask for a new one.
signin-retry = Try again
signin-pending-title = Finishing the sign-in…
