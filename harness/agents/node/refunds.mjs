#!/usr/bin/env node
// A refund agent in another language: a command agent (Node 18+, no packages).
//
//   aqe run scenarios/payments --agent 'cmd:node harness/agents/node/refunds.mjs careful'
//
// It speaks the command contract only: the task in AQE_TASK, the credential in
// AQE_API_KEY, each service at $AQE_BASE_URL/<service>/..., simulated time
// waited with POST $AQE_BASE_URL/v1/clock/sleep, and the result as JSON on the
// last line of stdout. "careful" does what harness.agents.reference's
// careful_refund_agent does, call for call: it reads the ticket and the charge,
// asks for approval above the limit, and refunds with one idempotency key for
// every retry. "naive" refunds the way the incident did: no checks, no
// approval, blind retries without a key.

const task = JSON.parse(process.env.AQE_TASK);
const base = process.env.AQE_BASE_URL;
const auth = { authorization: `Bearer ${process.env.AQE_API_KEY}` };
const APPROVAL_LIMIT = 50000;
const APPROVAL_PATIENCE = 26 * 3600;
const RETRYABLE = new Set([409, 429, 500, 502, 503, 504]);
const LIVE = new Set(["succeeded", "pending"]);

class Stop extends Error {
  constructor(reason, summary) { super(summary); this.reason = reason; }
}
class Failed extends Error {}

async function sleep(seconds) {
  await fetch(`${base}/v1/clock/sleep`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ seconds }),
  });
}

function form(params) {
  return new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
}

// One request, retried on a lost answer, 5xx and 429 (honouring Retry-After):
// safe for reads, and for writes that carry an idempotency key.
async function send(method, path, { json, data, params, key, attempts = 4 } = {}) {
  const headers = { ...auth };
  let body;
  if (json !== undefined) { headers["content-type"] = "application/json"; body = JSON.stringify(json); }
  if (data !== undefined) { headers["content-type"] = "application/x-www-form-urlencoded"; body = form(data).toString(); }
  if (key) headers["idempotency-key"] = key;
  const query = params ? `?${form(params)}` : "";
  let delay = 1;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let response;
    try {
      response = await fetch(`${base}${path}${query}`, { method, headers, body });
    } catch (error) {
      if (attempt === attempts) throw new Failed(`${method} ${path}: ${error.message}`);
    }
    if (response) {
      if (!RETRYABLE.has(response.status)) return response;
      if (attempt === attempts) throw new Failed(`${method} ${path}: HTTP ${response.status}`);
      delay = Math.max(delay, Number(response.headers.get("retry-after")) || 0);
    }
    await sleep(delay);
    delay *= 2;
  }
}

async function readJson(response) {
  try {
    const body = JSON.parse(await response.text());
    return body && typeof body === "object" && !Array.isArray(body) ? body : null;
  } catch { return null; }
}

const isInt = (v) => Number.isInteger(v) && typeof v !== "boolean";

async function careful() {
  const ticketId = String(task.input.ticket_id);
  const chargeId = String(task.input.charge);
  const amount = Number(task.input.amount);
  const currency = String(task.input.currency).toLowerCase();
  const refs = [ticketId, chargeId];
  const key = `refund-${ticketId}-${chargeId}-${amount}`;
  const params = {
    charge: chargeId, amount, reason: "requested_by_customer", "metadata[ticket]": ticketId,
  };

  async function refunds() {
    const response = await send("GET", "/payments/v1/refunds", { params: { charge: chargeId, limit: 100 } });
    const body = response.status === 200 ? await readJson(response) : null;
    if (!body || !Array.isArray(body.data)) throw new Failed(`could not list the refunds of ${chargeId}`);
    return body.data.filter((r) => r && typeof r === "object");
  }

  async function earlierRefund() {
    const mine = (await refunds()).filter(
      (r) => (r.metadata || {}).ticket === ticketId && LIVE.has(r.status));
    if (mine.length === 0) return null;
    const same = mine.find((r) => r.amount === amount);
    if (same) return String(same.id);
    throw new Stop("conflicting_records",
      `ticket ${ticketId} already refunded ${mine[0].amount} on ${chargeId}; the request asks for ${amount}`);
  }

  async function escalate(reason, summary) {
    await send("POST", "/ops/v1/escalations", { json: { reason, summary, refs } });
    return { status: "escalated", summary: `${reason}: ${summary}` };
  }

  async function run() {
    // the ticket
    let response = await send("GET", `/tickets/v1/tickets/${ticketId}`);
    if (response.status === 404) throw new Stop("missing_data", `ticket ${ticketId} not found`);
    const ticket = (await readJson(response)) || {};
    if (ticket.charge && ticket.charge !== chargeId) {
      throw new Stop("conflicting_records",
        `ticket ${ticketId} is about charge ${ticket.charge}, the request names ${chargeId}`);
    }
    // the charge, read twice if its answer does not hold what the contract promises
    let charge = null;
    for (let i = 0; i < 2; i++) {
      response = await send("GET", `/payments/v1/charges/${chargeId}`);
      if (response.status === 404) throw new Stop("missing_data", `charge ${chargeId} not found`);
      const read = (await readJson(response)) || {};
      if (isInt(read.amount) && typeof read.currency === "string") { charge = read; break; }
    }
    if (!charge) throw new Stop("missing_data", `charge ${chargeId} answers without a readable amount or currency`);
    let refunded = isInt(charge.amount_refunded) ? charge.amount_refunded : null;
    if (refunded === null) {
      refunded = (await refunds()).filter((r) => LIVE.has(r.status)).reduce((s, r) => s + Number(r.amount), 0);
    }
    let refundId = await earlierRefund();
    if (refundId === null) {
      const remaining = charge.amount - refunded;
      if (charge.refunded === true || remaining <= 0) {
        throw new Stop("conflicting_records", `refund requested but charge ${chargeId} is already fully refunded`);
      }
      if (amount > remaining || charge.currency.toLowerCase() !== currency) {
        throw new Stop("conflicting_records",
          `requested ${amount} ${currency}; charge ${chargeId} has ${remaining} ${charge.currency.toLowerCase()} left to refund`);
      }
      if (amount > APPROVAL_LIMIT) {
        const approval = await readJson(await send("POST", "/ops/v1/approvals", { json: {
          action: "payments.refund",
          params: { charge: chargeId, amount },
          justification: `ticket ${ticketId}: refund above the approval limit`,
        } }));
        const fetchStatus = async () =>
          String((await readJson(await send("GET", `/ops/v1/approvals/${approval.id}`))).status);
        let waited = 0, poll = 300, decision = await fetchStatus();
        while (decision === "pending" && waited <= APPROVAL_PATIENCE) {
          await sleep(poll);
          waited += poll;
          poll = Math.min(poll * 2, 3600);
          if (waited > APPROVAL_PATIENCE) break;
          decision = await fetchStatus();
        }
        if (decision !== "approved") {
          throw new Stop("sensitive_request", `refund of ${amount} ${currency} was not approved (${decision})`);
        }
      }
      // refund once; an unreadable answer is ambiguous: look, then retry with the same key
      for (let i = 0; i < 2 && refundId === null; i++) {
        response = await send("POST", "/payments/v1/refunds", { key, data: params });
        const body = await readJson(response);
        if (body && response.status !== 200) {
          throw new Stop("tool_failure", `refund rejected: ${(body.error || {}).message || response.status}`);
        }
        if (body && typeof body.id === "string") refundId = body.id;
        else refundId = await earlierRefund();
      }
      if (refundId === null) throw new Failed(`refund of ${chargeId}: no readable answer`);
    }
    const note = `Refunded ${amount} ${currency} on ${chargeId} (${refundId}).`;
    try {
      await updateTicket(note);
    } catch (error) {
      if (!(error instanceof Failed)) throw error;
      return escalate("tool_failure", `${note} The ticket could not be updated: ${error.message}`);
    }
    return { status: "done", summary: note, output: { refund: refundId } };
  }

  // note the refund once (a comment has no key: look before each post), then solve
  async function updateTicket(note) {
    const path = `/tickets/v1/tickets/${ticketId}/comments`;
    let delay = 1, posted = false;
    for (let i = 0; i < 4 && !posted; i++) {
      const listed = (await readJson(await send("GET", path, { params: { limit: 100 } }))) || {};
      if ((listed.data || []).some((c) => c.body === note)) { posted = true; break; }
      try {
        const answer = await fetch(`${base}${path}`, {
          method: "POST", headers: { ...auth, "content-type": "application/json" },
          body: JSON.stringify({ body: note }),
        });
        if (answer.status < 300) { posted = true; break; }
        if (!RETRYABLE.has(answer.status)) throw new Failed(`comment refused: HTTP ${answer.status}`);
        delay = Math.max(delay, Number(answer.headers.get("retry-after")) || 0);
      } catch (error) {
        if (error instanceof Failed) throw error; // a lost answer: the next turn looks first
      }
      await sleep(delay);
      delay *= 2;
    }
    if (!posted) throw new Failed(`could not comment on ticket ${ticketId}`);
    await send("PATCH", `/tickets/v1/tickets/${ticketId}`, { json: { status: "solved" } });
  }

  try {
    return await run();
  } catch (error) {
    if (error instanceof Stop) return escalate(error.reason, error.message);
    if (error instanceof Failed) return escalate("tool_failure", `gave up after retries: ${error.message}`);
    throw error;
  }
}

async function naive() {
  for (let i = 0; i < 3; i++) {
    let response;
    try {
      response = await fetch(`${base}/payments/v1/refunds`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/x-www-form-urlencoded" },
        body: form({ charge: task.input.charge, amount: task.input.amount }).toString(),
      });
    } catch {
      continue; // "it probably did not go through": retry, without a key
    }
    if (response.status >= 500) continue;
    const text = await response.text();
    if (response.status !== 200) return { status: "failed", summary: text };
    return { status: "done", summary: `refunded ${JSON.parse(text).id}` };
  }
  return { status: "failed", summary: "refund kept failing" };
}

const variants = { careful, naive };
const variant = variants[process.argv[2] || "careful"];
if (!variant) {
  console.error(`usage: refunds.mjs careful|naive (got ${process.argv[2]})`);
  process.exit(2);
}
console.log(JSON.stringify(await variant()));
