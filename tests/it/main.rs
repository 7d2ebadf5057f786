mod cli;
mod durability;
mod harness;
mod process;
mod smtp_raw;
mod store;
