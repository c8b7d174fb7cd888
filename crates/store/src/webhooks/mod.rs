//! Webhook endpoints and the durable delivery queue, in domain words.
//!
//! Every event row fans out, in the transaction that writes it, to one [`Delivery`] per enabled
//! endpoint of its environment subscribed to its type. A worker claims due deliveries with a
//! lease ([`Claim`]); an expired lease makes a delivery due again, so a crash loses nothing and
//! at worst repeats a request (with the same `webhook-id`). Each attempt is logged.
//!
//! [`WebhookEndpoints`] is what an operator changes; [`Deliveries`] is what the worker drains.
//! They share this folder because the fan-out that joins them runs whenever an event is
//! written.

mod deliveries;
mod endpoints;

pub use deliveries::*;
pub use endpoints::*;
