mod harness;
mod smtp_raw;
