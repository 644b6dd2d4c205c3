//! Background work on intervals: the outbox worker (send what is due) and the deadline scheduler
//! (expiry and reminders). `ipxfer serve` runs both in-process; `ipxfer worker` runs them alone,
//! for deployments that keep them apart from the web servers. Any number may run against one
//! PostgreSQL: claims and reminders are exclusive in the database (see `services::outbox` and
//! `services::scheduler`). "Now" comes from the injected clock.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::mail::Mailer;
use crate::services::outbox::{self, DeliveryPolicy};
use crate::services::scheduler;

/// How often each job runs, and how hard the worker tries.
#[derive(Debug, Clone, Copy)]
pub struct Intervals {
    pub deliver_every: Duration,
    pub tick_every: Duration,
    pub delivery: DeliveryPolicy,
}

impl Default for Intervals {
    /// Mail leaves within seconds; deadlines are days long, so once a minute is plenty.
    fn default() -> Self {
        Intervals {
            deliver_every: Duration::from_secs(5),
            tick_every: Duration::from_secs(60),
            delivery: DeliveryPolicy::default(),
        }
    }
}

/// How long stopping waits for a round in progress.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// The running jobs; [`Background::stop`] ends them after the round in progress.
pub struct Background {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Starts the scheduler, and the outbox worker when there is a mailer. Without one, mail stays
/// queued in the outbox (and this says so in the log) until a process with a transport runs.
pub fn spawn(
    db: DatabaseConnection,
    settings: Arc<Settings>,
    mailer: Option<Mailer>,
    clock: SharedClock,
    intervals: Intervals,
) -> Background {
    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::new();
    match mailer {
        Some(mailer) => {
            tracing::info!("sending e-mail through {}", mailer.describe());
            let (db, clock, stopped) = (db.clone(), clock.clone(), stopped.clone());
            tasks.push(tokio::spawn(every(
                intervals.deliver_every,
                stopped,
                move || {
                    let (db, mailer, clock) = (db.clone(), mailer.clone(), clock.clone());
                    async move {
                        let now = || clock.now();
                        match outbox::drain(&db, &mailer, &intervals.delivery, now).await {
                            Ok(d) if d.claimed() > 0 => tracing::info!(
                                sent = d.sent,
                                deferred = d.deferred,
                                failed = d.failed,
                                "outbox delivered"
                            ),
                            Ok(_) => {}
                            Err(e) => tracing::error!("outbox delivery failed: {e}"),
                        }
                    }
                },
            )));
        }
        None => tracing::warn!(
            "no mail transport configured (set SMTP_URL, or MAIL_DIR for a folder of .eml \
             files): e-mails stay queued in the outbox"
        ),
    }
    tasks.push(tokio::spawn(every(
        intervals.tick_every,
        stopped,
        move || {
            let (db, settings, clock) = (db.clone(), settings.clone(), clock.clone());
            async move {
                match scheduler::tick(&db, &settings, clock.now()).await {
                    Ok(t) if t != scheduler::Tick::default() => tracing::info!(
                        expired = t.expired,
                        deadline_reminders = t.deadline_reminders,
                        service_level_reminders = t.service_level_reminders,
                        "scheduler ran"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::error!("scheduler failed: {e}"),
                }
            }
        },
    )));
    Background { stop, tasks }
}

impl Background {
    /// Adds the transparency log's job: a checkpoint when the ledger has grown (at most once per
    /// `log.sign_every`), sent to the witnesses that have not cosigned it yet.
    pub fn with_log(
        mut self,
        db: DatabaseConnection,
        log: Arc<crate::services::tlog::LogConfig>,
        clock: SharedClock,
    ) -> Self {
        let stopped = self.stop.subscribe();
        self.tasks
            .push(tokio::spawn(every(log.sign_every, stopped, move || {
                let (db, log, clock) = (db.clone(), log.clone(), clock.clone());
                async move {
                    match crate::services::tlog::round(&db, &log, clock.now()).await {
                        Ok(r) if r.signed.is_some() || !r.cosigned_by.is_empty() => tracing::info!(
                            signed = r.signed,
                            cosigned_by = r.cosigned_by.join(", "),
                            "transparency log"
                        ),
                        Ok(_) => {}
                        Err(e) => tracing::error!("transparency log: {e}"),
                    }
                }
            })));
        self
    }

    /// Stops the jobs: waits up to 10 seconds for the rounds in progress, then abandons them (a
    /// message sent but not yet marked is sent again later, with the same Message-ID).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for mut task in self.tasks {
            match tokio::time::timeout(STOP_GRACE, &mut task).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!("background job ended abnormally: {e}"),
                Err(_) => {
                    tracing::warn!("a background job did not stop in time: abandoning its round");
                    task.abort();
                }
            }
        }
    }
}

/// Runs `job` now and then every `period` until told to stop; a round in progress finishes.
async fn every<F, Fut>(period: Duration, mut stopped: watch::Receiver<bool>, job: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            _ = interval.tick() => job().await,
        }
        if *stopped.borrow() {
            return;
        }
    }
}
