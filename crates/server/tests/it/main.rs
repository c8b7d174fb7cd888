//! Plugboard's integration tests: the real server over HTTP on SQLite and PostgreSQL, the real
//! binary, and Kombo's official SDK against it.

mod abuse;
mod architecture;
mod binary;
mod branding;
mod cli;
mod compression;
mod connect;
mod connection_checks;
mod connections;
mod demo;
mod documented_lists;
mod fake_vendor;
mod flow;
mod general;
mod hardening;
mod helpers;
mod integrations;
mod key_rotation;
mod link_tokens;
mod oauth_apps;
mod oauth_provider;
mod oauth_signin;
mod oauth_tokens;
mod outage;
mod outbound;
mod passthrough;
mod passthrough_tools;
mod receiver;
mod sandbox;
mod sdk_compat;
mod sdk_passthrough;
mod secrets;
mod webhook_durability;
mod webhooks;
