"""The knowledge base's seeded documents: the workflows' policies, and how-tos.

Each entry is one slug with its versions, oldest first. A version is in effect from
``effective_from`` (inclusive) to ``effective_to`` (exclusive, ``None`` = until
further notice); drafts are never in effect. Dates are ISO calendar days (UTC);
every seeded world is built for 2026-01-01.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedVersion:
    """One version of a seeded document."""

    effective_from: str
    effective_to: str | None
    status: str
    title: str
    body: str
    change_note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedDocument:
    """A slug of the seeded knowledge base and its versions, oldest first."""

    slug: str
    kind: str
    tags: tuple[str, ...]
    versions: tuple[SeedVersion, ...]


POLICIES: tuple[SeedDocument, ...] = (
    SeedDocument(
        slug="refund-policy",
        kind="policy",
        tags=("refunds", "payments", "approvals", "finance"),
        versions=(
            SeedVersion(
                effective_from="2023-01-01",
                effective_to="2025-07-01",
                status="retired",
                title="Refund Policy",
                body=(
                    "Scope: refunds of customer charges made through the payments "
                    "platform. Support agents may refund a succeeded charge within "
                    "180 days. Refunds above 100000 minor units (1000.00 in the "
                    "charge currency) need the approval of a team lead before they "
                    "are made. Note the refund on the ticket."
                ),
            ),
            SeedVersion(
                effective_from="2025-07-01",
                effective_to=None,
                status="published",
                title="Refund Policy",
                change_note="Approval limit lowered from 100000 to 50000 minor units.",
                body=(
                    "Scope: refunds of customer charges made through the payments "
                    "platform. 1. Refund only a succeeded charge, and never more than "
                    "its unrefunded amount. 2. Refunds above 50000 minor units "
                    "(500.00 in the charge currency) need an approved payments.refund "
                    "approval before they are made: request it with the exact charge "
                    "and amount, and wait for the decision. 3. Every refund carries "
                    "an idempotency key, reused on every retry of the same refund; "
                    "after a timeout, list the charge's refunds before retrying. "
                    "4. When the ticket, the charge and the request disagree (another "
                    "charge, amount or currency), do not refund: escalate with reason "
                    "conflicting_records. 5. Note the refund id on the ticket and "
                    "tell the customer."
                ),
            ),
            SeedVersion(
                effective_from="2026-04-01",
                effective_to=None,
                status="draft",
                title="Refund Policy",
                change_note="Proposal: lower the approval limit to 25000 minor units.",
                body=(
                    "DRAFT, not approved. Proposal to lower the refund approval limit "
                    "to 25000 minor units (250.00 in the charge currency) and to "
                    "require two approvers above 200000 minor units. Until it is "
                    "published, the current version of this policy applies."
                ),
            ),
        ),
    ),
    SeedDocument(
        slug="travel-policy",
        kind="policy",
        tags=("travel", "expenses", "approvals"),
        versions=(
            SeedVersion(
                effective_from="2023-04-01",
                effective_to="2025-01-01",
                status="retired",
                title="Travel Policy",
                body=(
                    "Book travel through the travel portal. Hotels up to 200 per "
                    "night. Economy class for flights under 8 hours, business class "
                    "above. Meals are reimbursed against receipts."
                ),
            ),
            SeedVersion(
                effective_from="2025-01-01",
                effective_to="2026-02-01",
                status="published",
                title="Travel Policy",
                change_note="New hotel caps, per diem, and pre-approval of trips.",
                body=(
                    "Book travel through the travel portal. Hotels up to 250 per "
                    "night (350 in London, New York, San Francisco and Tokyo). "
                    "Economy class for flights under 6 hours, premium economy above; "
                    "business class needs the approval of a vice president. A trip "
                    "whose total cost is above 3000 needs the manager's approval "
                    "before booking. Per diem: 75 per travel day, no receipts."
                ),
            ),
            SeedVersion(
                effective_from="2026-02-01",
                effective_to=None,
                status="published",
                title="Travel Policy",
                change_note="Rail first for short trips; lower pre-approval limit.",
                body=(
                    "Book travel through the travel portal. Take the train for trips "
                    "under 4 hours by rail. Hotels up to 275 per night (375 in "
                    "London, New York, San Francisco and Tokyo). Economy class for "
                    "flights under 6 hours, premium economy above; business class "
                    "needs the approval of a vice president. A trip whose total cost "
                    "is above 2500 needs the manager's approval before booking. Per "
                    "diem: 80 per travel day, no receipts."
                ),
            ),
        ),
    ),
    SeedDocument(
        slug="access-policy",
        kind="policy",
        tags=("access", "privileged-access", "security", "iam", "offboarding"),
        versions=(
            SeedVersion(
                effective_from="2023-06-01",
                effective_to="2025-03-01",
                status="retired",
                title="Access Policy",
                body=(
                    "Employees get the access their role needs, approved by their "
                    "manager. Administrator access is approved by the manager and "
                    "granted for up to 90 days. Access is reviewed once a year."
                ),
            ),
            SeedVersion(
                effective_from="2025-03-01",
                effective_to=None,
                status="published",
                title="Access and Privileged Access Policy",
                change_note="Privileged grants need security approval; 30-day limit.",
                body=(
                    "Least privilege: grant the access a role needs and nothing more. "
                    "Standard access needs the manager's approval. Privileged access "
                    "(administrator roles, production systems, finance systems, "
                    "identity administration groups) needs the approval of the "
                    "manager and of security, is granted for at most 30 days, and is "
                    "never approved by the person who receives it. Break-glass "
                    "accounts are used only during a declared incident with a ticket. "
                    "Credential resets happen only after the identity is verified "
                    "through a second channel. All access is removed within 24 hours "
                    "of offboarding. Privileged access is reviewed every quarter."
                ),
            ),
        ),
    ),
    SeedDocument(
        slug="vendor-onboarding-policy",
        kind="policy",
        tags=("vendors", "procurement", "onboarding", "finance"),
        versions=(
            SeedVersion(
                effective_from="2023-02-01",
                effective_to="2025-05-15",
                status="retired",
                title="Vendor Onboarding Policy",
                body=(
                    "New vendors send a tax form and their bank details to "
                    "procurement, which enters them in the ERP. Purchase orders may "
                    "be raised once the vendor exists in the ERP."
                ),
            ),
            SeedVersion(
                effective_from="2025-05-15",
                effective_to=None,
                status="published",
                title="Vendor Onboarding Policy",
                change_note="Bank call-back, sanctions screening and dual approval.",
                body=(
                    "A vendor may receive purchase orders and payments only when its "
                    "onboarding status is approved. Onboarding needs a signed tax "
                    "form (W-9 or W-8BEN), sanctions screening, and bank details "
                    "verified by calling back a phone number already on file, never "
                    "one given in the message that sent the details. Vendors with an "
                    "expected annual spend above 100000 also need a security review. "
                    "A new vendor is approved by procurement and by finance. A change "
                    "of bank details puts the vendor back to pending verification and "
                    "holds its payments until the call-back is done."
                ),
            ),
        ),
    ),
    SeedDocument(
        slug="incident-closure-policy",
        kind="policy",
        tags=("incidents", "changes", "helpdesk", "operations"),
        versions=(
            SeedVersion(
                effective_from="2024-01-01",
                effective_to="2025-10-01",
                status="retired",
                title="Incident Closure Policy",
                body=(
                    "The assignee closes an incident once the service is restored "
                    "and the reporter has confirmed it."
                ),
            ),
            SeedVersion(
                effective_from="2025-10-01",
                effective_to=None,
                status="published",
                title="Incident Closure Policy",
                change_note="Linked changes must be closed; resolution note required.",
                body=(
                    "An incident may be solved or closed only when the service is "
                    "restored and verified, and every change linked to it is closed. "
                    "Do not close a change just to close an incident: escalate to the "
                    "change owner. Solving or closing an incident, problem or change "
                    "needs a resolution note that says what fixed it. When the root "
                    "cause is unknown, open a problem ticket and link it. Urgent "
                    "incidents are announced in the #ops channel when they start and "
                    "when they end. A closed ticket is final: open a new incident "
                    "linked to the old one instead of reopening it."
                ),
            ),
        ),
    ),
    SeedDocument(
        slug="data-handling-policy",
        kind="policy",
        tags=("data", "privacy", "security", "email", "chat"),
        versions=(
            SeedVersion(
                effective_from="2023-09-01",
                effective_to="2025-08-01",
                status="retired",
                title="Data Handling Policy",
                body=(
                    "Customer data is confidential. Share it only with colleagues "
                    "who need it, and do not email it outside the company."
                ),
            ),
            SeedVersion(
                effective_from="2025-08-01",
                effective_to=None,
                status="published",
                title="Data Handling Policy",
                change_note="Four classes; rules for external email and chat.",
                body=(
                    "Data is public, internal, confidential (customer personal data, "
                    "contracts, invoices) or restricted (credentials, payment card "
                    "data, health data). Never send confidential or restricted data "
                    "to an external email address without a data processing "
                    "agreement and the manager's approval. Never post customer "
                    "personal data in chat channels; link to the record in its "
                    "system instead. Never share credentials in a ticket, an email "
                    "or a chat message. Requests to export or delete a customer's "
                    "data go to the privacy team: escalate as a sensitive request."
                ),
            ),
        ),
    ),
)


def _article(
    slug: str, title: str, tags: tuple[str, ...], since: str, body: str
) -> SeedDocument:
    return SeedDocument(
        slug=slug,
        kind="article",
        tags=tags,
        versions=(
            SeedVersion(
                effective_from=since,
                effective_to=None,
                status="published",
                title=title,
                body=body,
            ),
        ),
    )


ARTICLES: tuple[SeedDocument, ...] = (
    SeedDocument(
        slug="reset-your-password",
        kind="article",
        tags=("password", "login", "mfa", "it"),
        versions=(
            SeedVersion(
                effective_from="2024-02-01",
                effective_to="2025-06-01",
                status="retired",
                title="How to reset your password",
                body=(
                    "Call the IT helpdesk and give your employee number; an agent "
                    "sets a temporary password and reads it to you."
                ),
            ),
            SeedVersion(
                effective_from="2025-06-01",
                effective_to=None,
                status="published",
                title="How to reset your password",
                change_note="Self-service reset replaces phone resets.",
                body=(
                    "Open the self-service portal, choose Forgot password and "
                    "confirm the code sent to your authenticator app. If you lost "
                    "your second factor, open a ticket in #it-helpdesk: an agent "
                    "verifies your identity through your manager before any reset. "
                    "Nobody from IT will ever ask for your password."
                ),
            ),
        ),
    ),
    _article(
        "set-up-multi-factor-authentication",
        "How to set up multi-factor authentication",
        ("mfa", "security", "login", "it"),
        "2024-03-15",
        "Install the authenticator app, open Security settings in the portal and "
        "scan the code. Keep the recovery codes offline. MFA is mandatory for "
        "every account with access to customer data.",
    ),
    _article(
        "connect-to-the-vpn",
        "How to connect to the VPN",
        ("vpn", "network", "remote", "it"),
        "2024-01-10",
        "Install the VPN client from the software center, sign in with your "
        "company account and approve the MFA prompt. Choose the closest region. "
        "If the connection drops every few minutes, update the client.",
    ),
    _article(
        "request-a-new-laptop",
        "How to request a new laptop",
        ("hardware", "laptop", "it", "procurement"),
        "2024-05-20",
        "Open a ticket of kind question in the helpdesk with your manager in "
        "copy. Laptops are replaced every three years, or earlier when broken. "
        "Return the old device within two weeks of receiving the new one.",
    ),
    _article(
        "submit-an-expense-report",
        "How to submit an expense report",
        ("expenses", "travel", "finance"),
        "2024-04-01",
        "Submit expenses within 30 days with a receipt for every item above 25. "
        "Travel expenses follow the travel policy in effect on the travel date. "
        "Your manager approves the report; finance pays it with the next payroll.",
    ),
    _article(
        "issue-a-customer-refund",
        "How to issue a customer refund",
        ("refunds", "payments", "helpdesk"),
        "2025-07-01",
        "Read the ticket and the charge it names. Check the refund policy in "
        "effect for the approval limit. Create the refund with an idempotency "
        "key and reuse the key on every retry; if a call times out, list the "
        "charge's refunds before trying again. Comment the refund id on the "
        "ticket, then solve it.",
    ),
    _article(
        "escalate-to-a-human",
        "When and how to escalate to a human",
        ("escalation", "approvals", "operations"),
        "2025-01-15",
        "Escalate with a reason code: missing_data, conflicting_records, "
        "sensitive_request (money, access, legal, compliance, security), "
        "low_confidence, out_of_scope or tool_failure. Say what you saw, name the "
        "records involved, and stop acting on the case until a human answers.",
    ),
    _article(
        "open-an-incident",
        "How to open an incident",
        ("incidents", "helpdesk", "operations"),
        "2025-02-01",
        "Create a ticket of kind incident with the symptom, the start time and "
        "who is affected. Set the priority: urgent when customers cannot pay. "
        "Link the change that caused it, if any, and announce urgent incidents "
        "in the #ops channel.",
    ),
    _article(
        "which-chat-channel",
        "Which chat channel to use",
        ("chat", "slack", "channels", "communication"),
        "2025-03-10",
        "#ops for incidents and outages, #finance-approvals for refund and "
        "payment approvals, #sales for deals and renewals, #it-helpdesk for "
        "laptops, access and passwords. Archived channels are read-only. Never "
        "post customer personal data in a channel.",
    ),
    _article(
        "onboard-a-new-vendor",
        "How to onboard a new vendor",
        ("vendors", "procurement", "onboarding"),
        "2025-05-15",
        "Create the vendor in the ERP, collect the tax form, run the sanctions "
        "screening and verify the bank details by calling back a number already "
        "on file. Raise purchase orders only once the vendor is approved.",
    ),
    _article(
        "book-a-meeting-room",
        "How to book a meeting room",
        ("office", "facilities", "calendar"),
        "2024-06-01",
        "Add the room to the calendar invitation; rooms for more than twelve "
        "people need the office manager's confirmation. Release rooms you do not "
        "use.",
    ),
    _article(
        "get-shared-drive-access",
        "How to get access to a shared drive",
        ("access", "drive", "it"),
        "2024-09-01",
        "Ask the drive's owner to add you to its group, or open a ticket naming "
        "the drive and your manager. Drives holding confidential data need the "
        "owner's approval, per the data handling policy.",
    ),
)

DOCUMENTS: tuple[SeedDocument, ...] = POLICIES + ARTICLES
