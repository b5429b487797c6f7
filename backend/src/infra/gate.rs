//! Keeps one tenant's slow remote endpoints from holding every worker: jobs that call out on a
//! tenant's behalf (those whose `jobs::Job::CALLS_OUT` is set: outbound webhook deliveries,
//! channel polls) run at most [`PER_TENANT`] at a time per tenant in each process, the others
//! wait their turn in the queue. (Every job also has a time limit, `jobs::Job::TIME_LIMIT`,
//! after which it fails and is retried with backoff.)

use std::collections::HashMap;
use std::sync::Mutex;

/// Jobs calling out that one tenant may run at once in a process (of `ORDERFLOW_WORKERS`).
pub const PER_TENANT: usize = 2;

/// Counts the calling-out jobs running per tenant in this process.
#[derive(Default)]
pub struct TenantGate {
    running: Mutex<HashMap<uuid::Uuid, usize>>,
}

/// A place taken in the gate, given back when dropped.
pub struct Permit<'a> {
    gate: &'a TenantGate,
    tenant: uuid::Uuid,
}

impl TenantGate {
    /// Takes a place for a job of `tenant` if it has one free.
    pub fn enter(&self, tenant: uuid::Uuid) -> Option<Permit<'_>> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let count = running.entry(tenant).or_default();
        if *count >= PER_TENANT {
            return None;
        }
        *count += 1;
        Some(Permit { gate: self, tenant })
    }

    /// Tenants with no place free: their calling-out jobs are not claimed for now.
    pub fn busy(&self) -> Vec<uuid::Uuid> {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running
            .iter()
            .filter(|(_, n)| **n >= PER_TENANT)
            .map(|(t, _)| *t)
            .collect()
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut running = self.gate.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = running.get_mut(&self.tenant) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                running.remove(&self.tenant);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_gets_at_most_its_places_and_others_are_unaffected() {
        let gate = TenantGate::default();
        let (a, b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let first = gate.enter(a).unwrap();
        let _second = gate.enter(a).unwrap();
        assert!(gate.enter(a).is_none());
        assert_eq!(gate.busy(), vec![a]);
        assert!(gate.enter(b).is_some());
        drop(first);
        assert!(gate.busy().is_empty());
        assert!(gate.enter(a).is_some());
    }
}
