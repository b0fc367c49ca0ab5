"""Differential testing of Kramaa's EVM against py-evm (Cancun): cases, runners, comparison."""
