//! Tests of the workflow: every transition, the snapshot of the full state × event table, and
//! properties over random event sequences.

use proptest::prelude::*;

use super::*;

fn need() -> Option<NeedJustification> {
    Some(NeedJustification {
        text: "customer growth in two new regions".into(),
        horizon_months: Some(24),
        planned_utilisation_percent: Some(80),
    })
}

fn inter() -> WorkflowContext {
    WorkflowContext {
        inter_rir: true,
        need_required: true,
        need: need(),
        ..WorkflowContext::default()
    }
}

fn intra() -> WorkflowContext {
    WorkflowContext {
        inter_rir: false,
        ..inter()
    }
}

fn finding(rule_id: &str, side: Side, severity: Severity) -> Finding {
    Finding::new(
        rule_id,
        side,
        severity,
        "test policy",
        format!("{rule_id} applies"),
    )
}

fn approve(side: Side) -> Event {
    Event::Approve {
        side,
        overrides: vec![],
    }
}

fn approve_with(side: Side, overrides: &[(&str, &str)]) -> Event {
    Event::Approve {
        side,
        overrides: overrides
            .iter()
            .map(|(rule_id, reason)| Override {
                rule_id: (*rule_id).into(),
                reason: (*reason).into(),
            })
            .collect(),
    }
}

fn request_info(side: Side, asked: Side) -> Event {
    Event::RequestInfo {
        side,
        asked,
        question: "please send the signed agreement".into(),
    }
}

/// Applies the event, failing the test with the refusal if there is one.
fn step(ctx: &WorkflowContext, state: &State, event: Event) -> Transition {
    apply(ctx, state, &event).unwrap_or_else(|e| panic!("{state} x {event} refused: {e}"))
}

fn refusal(ctx: &WorkflowContext, state: &State, event: Event) -> WorkflowError {
    match apply(ctx, state, &event) {
        Ok(t) => panic!("{state} x {event} unexpectedly went to {}", t.next),
        Err(e) => e,
    }
}

fn notified(t: &Transition) -> Vec<(NotificationKind, Vec<Party>)> {
    t.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Notify(n) => Some((n.kind, n.to.clone())),
            _ => None,
        })
        .collect()
}

fn awaiting_finalization(fees_confirmed: bool) -> State {
    State::AwaitingFinalization {
        fees_confirmed,
        first_finalizer: None,
    }
}

#[test]
fn golden_inter_rir_path() {
    let ctx = inter();
    let filed = filed();
    assert_eq!(filed.next, State::AwaitingRecipient);
    assert_eq!(
        filed.effects[0],
        Effect::StartDeadline {
            kind: DeadlineKind::Consent
        }
    );
    assert_eq!(
        filed.next.waiting_on(),
        Some(Party::Organisation(Side::Recipient))
    );

    let accepted = step(&ctx, &filed.next, Event::RecipientAccept);
    assert_eq!(accepted.next, State::SourceReview);
    assert_eq!(accepted.effects[0], Effect::ClearDeadline);
    assert_eq!(
        notified(&accepted),
        [(
            NotificationKind::RecipientAccepted,
            vec![Party::Hostmasters(Side::Source)]
        )]
    );
    assert_eq!(accepted.next.nro_status(true), None);

    let source_ok = step(&ctx, &accepted.next, approve(Side::Source));
    assert_eq!(source_ok.next, State::RecipientReview);
    assert_eq!(
        source_ok.next.nro_status(true),
        Some(NroStatus::SourceInitialized)
    );
    assert_eq!(
        notified(&source_ok),
        [(
            NotificationKind::SourceApproved,
            vec![Party::Hostmasters(Side::Recipient)]
        )]
    );

    let recipient_ok = step(&ctx, &source_ok.next, approve(Side::Recipient));
    assert_eq!(recipient_ok.next, awaiting_finalization(false));
    assert_eq!(
        recipient_ok.next.nro_status(true),
        Some(NroStatus::RecipientAccepted)
    );
    assert_eq!(
        notified(&recipient_ok),
        [(
            NotificationKind::ReadyToFinalize,
            vec![Party::Hostmasters(Side::Source)]
        )]
    );

    let fees = step(
        &ctx,
        &recipient_ok.next,
        Event::ConfirmFees { by: UserId(7) },
    );
    assert_eq!(fees.next, awaiting_finalization(true));
    assert!(fees.effects.is_empty());

    let done = step(&ctx, &fees.next, Event::Finalize { by: UserId(7) });
    assert_eq!(done.next, State::Completed);
    assert_eq!(done.next.nro_status(true), Some(NroStatus::SourceFinalized));
    assert_eq!(
        done.next.nro_status(true).map(NroStatus::as_str),
        Some("SOURCE_FINALIZED")
    );
    assert_eq!(done.effects[0], Effect::MoveBlocks);
    assert_eq!(
        notified(&done),
        [(
            NotificationKind::Completed,
            vec![
                Party::Organisation(Side::Source),
                Party::Organisation(Side::Recipient),
                Party::Hostmasters(Side::Source),
                Party::Hostmasters(Side::Recipient),
            ]
        )]
    );
    assert!(done.next.is_terminal());
    assert_eq!(done.next.waiting_on(), None);
}

#[test]
fn intra_rir_path_has_one_review_and_no_nro_status() {
    let ctx = intra();
    let mut state = State::INITIAL;
    for event in [
        Event::RecipientAccept,
        approve(Side::Source),
        Event::ConfirmFees { by: UserId(3) },
        Event::Finalize { by: UserId(3) },
    ] {
        state = step(&ctx, &state, event).next;
        assert_eq!(state.nro_status(false), None);
    }
    assert_eq!(state, State::Completed);

    // The one review is the registry's source step; there is no recipient step to approve.
    let err = refusal(&ctx, &State::SourceReview, approve(Side::Recipient));
    assert_eq!(
        err.to_string(),
        "a transfer in source review cannot be approved on the recipient side"
    );
    let approved = step(&ctx, &State::SourceReview, approve(Side::Source));
    assert_eq!(approved.next, awaiting_finalization(false));
    assert_eq!(
        notified(&approved),
        [(
            NotificationKind::ReadyToFinalize,
            vec![Party::Hostmasters(Side::Source)]
        )]
    );
    assert!(matches!(
        refusal(&ctx, &State::RecipientReview, Event::Withdraw),
        WorkflowError::InconsistentState(State::RecipientReview)
    ));
}

#[test]
fn intra_rir_review_weighs_the_findings_of_both_sides() {
    let ctx = WorkflowContext {
        findings: vec![finding(
            "recipient.need",
            Side::Recipient,
            Severity::Warning,
        )],
        ..intra()
    };
    assert_eq!(
        refusal(&ctx, &State::SourceReview, approve(Side::Source)),
        WorkflowError::UnjustifiedWarnings(vec!["recipient.need".into()])
    );
    step(
        &ctx,
        &State::SourceReview,
        approve_with(
            Side::Source,
            &[("recipient.need", "plan reviewed by phone")],
        ),
    );
}

#[test]
fn blocking_findings_refuse_approval_of_their_side_and_finalization() {
    let blocker = finding("recipient.membership", Side::Recipient, Severity::Blocking);
    let ctx = WorkflowContext {
        findings: vec![
            blocker.clone(),
            finding("source.note", Side::Source, Severity::Info),
        ],
        ..inter()
    };
    // The source side has no blocking finding, so its registry may approve.
    step(&ctx, &State::SourceReview, approve(Side::Source));
    let err = refusal(&ctx, &State::RecipientReview, approve(Side::Recipient));
    assert_eq!(err, WorkflowError::BlockingFindings(vec![blocker.clone()]));
    assert_eq!(
        err.to_string(),
        "blocking findings prevent this: recipient.membership"
    );
    // An override cannot lift a blocking finding.
    assert!(matches!(
        refusal(
            &ctx,
            &State::RecipientReview,
            approve_with(Side::Recipient, &[("recipient.membership", "trust me")])
        ),
        WorkflowError::BlockingFindings(_)
    ));
    assert_eq!(
        refusal(
            &ctx,
            &awaiting_finalization(true),
            Event::Finalize { by: UserId(1) }
        ),
        WorkflowError::BlockingFindings(vec![blocker])
    );
}

#[test]
fn each_warning_of_the_side_needs_a_written_override() {
    let ctx = WorkflowContext {
        findings: vec![
            finding("source.holding_period", Side::Source, Severity::Warning),
            finding("source.min_size", Side::Source, Severity::Warning),
            finding("recipient.need", Side::Recipient, Severity::Warning),
        ],
        ..inter()
    };
    let state = State::SourceReview;
    assert_eq!(
        refusal(&ctx, &state, approve(Side::Source)),
        WorkflowError::UnjustifiedWarnings(vec![
            "source.holding_period".into(),
            "source.min_size".into()
        ])
    );
    // A blank reason is no reason; a missing override is still missing.
    assert_eq!(
        refusal(
            &ctx,
            &state,
            approve_with(
                Side::Source,
                &[("source.holding_period", "  "), ("source.min_size", "ok")]
            )
        ),
        WorkflowError::UnjustifiedWarnings(vec!["source.holding_period".into()])
    );
    // The recipient-side warning belongs to the other registry's review.
    let t = step(
        &ctx,
        &state,
        approve_with(
            Side::Source,
            &[
                ("source.holding_period", "received by merger, NRPM 8.2"),
                ("source.min_size", "aggregate of two /25 is a /24"),
            ],
        ),
    );
    assert_eq!(t.next, State::RecipientReview);
    assert_eq!(
        refusal(&ctx, &State::RecipientReview, approve(Side::Recipient)),
        WorkflowError::UnjustifiedWarnings(vec!["recipient.need".into()])
    );
}

#[test]
fn large_transfers_need_two_different_finalizers() {
    let ctx = WorkflowContext {
        large_transfer: true,
        ..inter()
    };
    let first = step(
        &ctx,
        &awaiting_finalization(true),
        Event::Finalize { by: UserId(7) },
    );
    assert_eq!(
        first.next,
        State::AwaitingFinalization {
            fees_confirmed: true,
            first_finalizer: Some(UserId(7))
        }
    );
    assert_eq!(
        notified(&first),
        [(
            NotificationKind::SecondFinalizerNeeded,
            vec![Party::Hostmasters(Side::Source)]
        )]
    );
    assert!(!first.effects.contains(&Effect::MoveBlocks));

    let same = refusal(&ctx, &first.next, Event::Finalize { by: UserId(7) });
    assert_eq!(
        same,
        WorkflowError::SecondFinalizerRequired { first: UserId(7) }
    );

    let second = step(&ctx, &first.next, Event::Finalize { by: UserId(8) });
    assert_eq!(second.next, State::Completed);
    assert!(second.effects.contains(&Effect::MoveBlocks));

    // Below the threshold one hostmaster suffices.
    let small = step(
        &inter(),
        &awaiting_finalization(true),
        Event::Finalize { by: UserId(7) },
    );
    assert_eq!(small.next, State::Completed);
}

#[test]
fn finalization_needs_confirmed_fees() {
    let ctx = inter();
    assert_eq!(
        refusal(
            &ctx,
            &awaiting_finalization(false),
            Event::Finalize { by: UserId(1) }
        ),
        WorkflowError::FeesNotConfirmed
    );
    assert_eq!(
        refusal(
            &ctx,
            &awaiting_finalization(true),
            Event::ConfirmFees { by: UserId(1) }
        ),
        WorkflowError::FeesAlreadyConfirmed
    );
    // Confirming fees between two finalizers keeps the first one.
    let large = WorkflowContext {
        large_transfer: true,
        ..inter()
    };
    let halfway = State::AwaitingFinalization {
        fees_confirmed: false,
        first_finalizer: Some(UserId(4)),
    };
    assert_eq!(
        step(&large, &halfway, Event::ConfirmFees { by: UserId(5) }).next,
        State::AwaitingFinalization {
            fees_confirmed: true,
            first_finalizer: Some(UserId(4))
        }
    );
}

#[test]
fn information_requested_and_answered_returns_to_the_asking_step() {
    let ctx = inter();
    let asked = step(
        &ctx,
        &State::RecipientReview,
        request_info(Side::Recipient, Side::Source),
    );
    let waiting = State::InfoRequested {
        step: ReviewStep::RecipientReview,
        asked: Side::Source,
    };
    assert_eq!(asked.next, waiting);
    assert_eq!(
        asked.effects,
        [
            Effect::StartDeadline {
                kind: DeadlineKind::Information
            },
            Effect::Notify(Notification {
                kind: NotificationKind::InformationRequested,
                to: vec![Party::Organisation(Side::Source)],
            }),
        ]
    );
    assert_eq!(
        waiting.waiting_on(),
        Some(Party::Organisation(Side::Source))
    );
    assert_eq!(waiting.owner_side(), Some(Side::Recipient));
    // The source registry already initialized; the status stays while the question is open.
    assert_eq!(waiting.nro_status(true), Some(NroStatus::SourceInitialized));

    let answered = step(&ctx, &waiting, Event::AnswerInfo);
    assert_eq!(answered.next, State::RecipientReview);
    assert_eq!(answered.effects[0], Effect::ClearDeadline);
    assert_eq!(
        notified(&answered),
        [(
            NotificationKind::InformationAnswered,
            vec![Party::Hostmasters(Side::Recipient)]
        )]
    );

    let source = step(
        &ctx,
        &State::SourceReview,
        request_info(Side::Source, Side::Recipient),
    );
    assert_eq!(
        step(&ctx, &source.next, Event::AnswerInfo).next,
        State::SourceReview
    );

    // Only the step's own registry asks, and only with a question.
    assert!(matches!(
        refusal(
            &ctx,
            &State::SourceReview,
            request_info(Side::Recipient, Side::Recipient)
        ),
        WorkflowError::NotAllowed { .. }
    ));
    let blank = Event::RequestInfo {
        side: Side::Source,
        asked: Side::Source,
        question: " ".into(),
    };
    assert_eq!(
        refusal(&ctx, &State::SourceReview, blank).to_string(),
        "a request for information needs a written reason"
    );
    // No decision while the question is open.
    assert!(matches!(
        refusal(&ctx, &waiting, approve(Side::Recipient)),
        WorkflowError::NotAllowed { .. }
    ));
}

#[test]
fn cancellations_publish_only_after_source_initialized() {
    use time::macros::datetime;
    let t = |h: u8| datetime!(2026-11-01 0:00 UTC) + time::Duration::hours(h.into());
    // Withdrawn during the source's review: the NRO log never heard of it.
    let early = [
        ("awaiting_recipient", t(0)),
        ("source_review", t(1)),
        ("withdrawn", t(2)),
    ];
    assert_eq!(published_status(&early, &State::Withdrawn), None);
    // Rejected by the recipient registry after the source approved.
    let rejected = [
        ("awaiting_recipient", t(0)),
        ("source_review", t(1)),
        ("recipient_review", t(2)),
        ("info_requested", t(3)),
        ("recipient_review", t(4)),
        ("rejected", t(5)),
    ];
    let by_recipient = State::Rejected {
        by: Side::Recipient,
    };
    assert_eq!(
        published_status(&rejected[..5], &State::RecipientReview),
        Some((NroStatus::SourceInitialized, t(2)))
    );
    assert_eq!(
        published_status(&rejected, &by_recipient),
        Some((NroStatus::RecipientCancelled, t(5)))
    );
    // Withdrawn after RECIPIENT_ACCEPTED, and a dispute keeps RECIPIENT_ACCEPTED's time.
    let late = [
        ("awaiting_recipient", t(0)),
        ("source_review", t(1)),
        ("recipient_review", t(2)),
        ("awaiting_finalization", t(3)),
        ("disputed", t(4)),
    ];
    assert_eq!(
        published_status(&late, &State::Disputed),
        Some((NroStatus::RecipientAccepted, t(3)))
    );
    let mut withdrawn = late.to_vec();
    withdrawn.push(("withdrawn", t(6)));
    assert_eq!(
        published_status(&withdrawn, &State::Withdrawn),
        Some((NroStatus::SourceCancelled, t(6)))
    );
    // The names queries use to tell initialized transfers agree with this function.
    for name in INITIALIZED_NAMES {
        assert!(published_status(&[(name, t(0))], &State::Disputed).is_some());
    }
    for name in ["awaiting_recipient", "source_review", "info_requested"] {
        assert_eq!(
            published_status(&[(name, t(0))], &State::SourceReview),
            None
        );
    }
    let expired = [("awaiting_recipient", t(0)), ("expired", t(9))];
    assert_eq!(
        published_status(&expired, &State::Expired { at: Side::Source }),
        None
    );
}

#[test]
fn deadlines_expire_only_consent_and_information_requests() {
    let ctx = inter();
    let consent = step(&ctx, &State::AwaitingRecipient, Event::Expire);
    assert_eq!(consent.next, State::Expired { at: Side::Source });
    assert_eq!(consent.effects[0], Effect::ClearDeadline);
    assert_eq!(notified(&consent)[0].0, NotificationKind::Expired);
    assert_eq!(
        consent.next.nro_status(true),
        Some(NroStatus::SourceCancelled)
    );

    let info = State::InfoRequested {
        step: ReviewStep::RecipientReview,
        asked: Side::Recipient,
    };
    let lapsed = step(&ctx, &info, Event::Expire);
    assert_eq!(
        lapsed.next,
        State::Expired {
            at: Side::Recipient
        }
    );
    assert_eq!(
        lapsed.next.nro_status(true),
        Some(NroStatus::RecipientCancelled)
    );
    assert!(lapsed.next.is_terminal());

    for state in [
        State::SourceReview,
        State::RecipientReview,
        awaiting_finalization(true),
        State::Disputed,
    ] {
        assert!(matches!(
            refusal(&ctx, &state, Event::Expire),
            WorkflowError::NotAllowed { .. }
        ));
    }
}

#[test]
fn source_may_withdraw_until_completion_except_while_disputed() {
    let ctx = inter();
    for state in representative_states(true) {
        let result = apply(&ctx, &state, &Event::Withdraw);
        if state.is_terminal() || state == State::Disputed {
            assert!(
                matches!(result, Err(WorkflowError::NotAllowed { .. })),
                "{state}"
            );
        } else {
            let t = result.unwrap();
            assert_eq!(t.next, State::Withdrawn, "{state}");
            assert_eq!(t.next.nro_status(true), Some(NroStatus::SourceCancelled));
            assert_eq!(
                t.effects.contains(&Effect::ClearDeadline),
                state.deadline().is_some()
            );
            assert_eq!(notified(&t)[0].1, ctx.parties_involved());
        }
    }
}

#[test]
fn dispute_holds_finalization_until_resolved() {
    let ctx = inter();
    let blank = Event::MarkDisputed { reason: "".into() };
    assert_eq!(
        refusal(&ctx, &awaiting_finalization(true), blank),
        WorkflowError::MissingReason("a dispute")
    );
    let disputed = step(
        &ctx,
        &awaiting_finalization(true),
        Event::MarkDisputed {
            reason: "a third party claims the block".into(),
        },
    );
    assert_eq!(disputed.next, State::Disputed);
    assert_eq!(
        disputed.next.nro_status(true),
        Some(NroStatus::RecipientAccepted)
    );
    assert_eq!(
        disputed.next.waiting_on(),
        Some(Party::Hostmasters(Side::Source))
    );
    assert_eq!(notified(&disputed)[0].0, NotificationKind::Disputed);
    assert_eq!(
        refusal(&ctx, &State::Disputed, Event::Finalize { by: UserId(1) }).to_string(),
        "a disputed transfer cannot be finalized"
    );

    let resolved = step(&ctx, &State::Disputed, Event::ResolveDispute);
    // The terms may have changed: fees and four eyes start again.
    assert_eq!(resolved.next, awaiting_finalization(false));
    assert_eq!(notified(&resolved)[0].0, NotificationKind::DisputeResolved);
}

#[test]
fn rejection_needs_a_reason_and_cancels_that_side() {
    let ctx = inter();
    let blank = Event::Reject {
        side: Side::Source,
        reason: "\n".into(),
    };
    assert_eq!(
        refusal(&ctx, &State::SourceReview, blank),
        WorkflowError::MissingReason("a rejection")
    );
    for (state, side, status) in [
        (
            State::SourceReview,
            Side::Source,
            NroStatus::SourceCancelled,
        ),
        (
            State::RecipientReview,
            Side::Recipient,
            NroStatus::RecipientCancelled,
        ),
    ] {
        let reject = Event::Reject {
            side,
            reason: "no documented need".into(),
        };
        let t = step(&ctx, &state, reject);
        assert_eq!(t.next, State::Rejected { by: side });
        assert_eq!(t.next.nro_status(true), Some(status));
        assert_eq!(
            notified(&t)[0],
            (NotificationKind::Rejected, ctx.parties_involved())
        );
    }
    // Everyone in an intra-RIR transfer is the two organisations and one registry.
    assert_eq!(intra().parties_involved().len(), 3);
}

#[test]
fn acceptance_needs_a_justification_where_the_recipient_registry_is_needs_based() {
    let without = WorkflowContext {
        need: None,
        ..inter()
    };
    assert_eq!(
        refusal(&without, &State::AwaitingRecipient, Event::RecipientAccept),
        WorkflowError::MissingNeedJustification
    );
    let blank = WorkflowContext {
        need: Some(NeedJustification::default()),
        ..inter()
    };
    assert!(apply(&blank, &State::AwaitingRecipient, &Event::RecipientAccept).is_err());
    let not_needs_based = WorkflowContext {
        need_required: false,
        ..without
    };
    step(
        &not_needs_based,
        &State::AwaitingRecipient,
        Event::RecipientAccept,
    );
}

#[test]
fn refusals_name_the_state_and_the_event() {
    let err = refusal(
        &inter(),
        &State::AwaitingRecipient,
        Event::Finalize { by: UserId(1) },
    );
    assert_eq!(
        err,
        WorkflowError::NotAllowed {
            state: State::AwaitingRecipient,
            event: EventKind::Finalize
        }
    );
    assert_eq!(
        err.to_string(),
        "a transfer awaiting the recipient's consent cannot be finalized"
    );
    assert_eq!(
        refusal(&inter(), &State::Completed, Event::Withdraw).to_string(),
        "a completed transfer cannot be withdrawn"
    );
}

#[test]
fn states_persist_as_name_and_detail() {
    let mut all = representative_states(true);
    all.push(State::InfoRequested {
        step: ReviewStep::RecipientReview,
        asked: Side::Source,
    });
    for state in all {
        let (name, detail) = state.to_parts();
        assert_eq!(name, state.as_str());
        assert_eq!(
            State::from_parts(name, detail.as_deref()),
            Ok(state.clone()),
            "{state}"
        );
    }
    assert_eq!(
        State::AwaitingFinalization {
            fees_confirmed: true,
            first_finalizer: Some(UserId(42))
        }
        .to_parts(),
        (
            "awaiting_finalization",
            Some(r#"{"fees_confirmed":true,"first_finalizer":42}"#.to_string())
        )
    );
    assert_eq!(State::Withdrawn.to_parts(), ("withdrawn", None));
    assert!(State::from_parts("approved", None).is_err());
    assert!(State::from_parts("rejected", None).is_err());
    assert!(State::from_parts("rejected", Some(r#"{"by":"iana"}"#)).is_err());
    assert!(State::from_parts("info_requested", Some("not json")).is_err());
}

#[test]
fn who_acts_and_who_owns_each_step() {
    let cases = [
        (
            State::AwaitingRecipient,
            Some(Party::Organisation(Side::Recipient)),
            Some(Side::Source),
        ),
        (
            State::SourceReview,
            Some(Party::Hostmasters(Side::Source)),
            Some(Side::Source),
        ),
        (
            State::RecipientReview,
            Some(Party::Hostmasters(Side::Recipient)),
            Some(Side::Recipient),
        ),
        (
            awaiting_finalization(false),
            Some(Party::Hostmasters(Side::Source)),
            Some(Side::Source),
        ),
        (
            State::Disputed,
            Some(Party::Hostmasters(Side::Source)),
            Some(Side::Source),
        ),
        (State::Completed, None, None),
        (
            State::Rejected {
                by: Side::Recipient,
            },
            None,
            None,
        ),
    ];
    for (state, waiting_on, owner) in cases {
        assert_eq!(state.waiting_on(), waiting_on, "{state}");
        assert_eq!(state.owner_side(), owner, "{state}");
    }
}

#[test]
fn transition_table_snapshot() {
    insta::assert_snapshot!(transition_table());
}

fn any_event() -> impl Strategy<Value = Event> {
    let side = prop_oneof![Just(Side::Source), Just(Side::Recipient)];
    let side2 = prop_oneof![Just(Side::Source), Just(Side::Recipient)];
    let text = prop_oneof![Just(String::new()), Just("because".to_string())];
    prop_oneof![
        Just(Event::RecipientAccept),
        side.clone().prop_map(approve),
        (side.clone(), text.clone()).prop_map(|(side, reason)| Event::Reject { side, reason }),
        (side, side2, text.clone()).prop_map(|(side, asked, question)| Event::RequestInfo {
            side,
            asked,
            question
        }),
        Just(Event::AnswerInfo),
        Just(Event::Withdraw),
        (1i64..3).prop_map(|by| Event::ConfirmFees { by: UserId(by) }),
        (1i64..3).prop_map(|by| Event::Finalize { by: UserId(by) }),
        text.prop_map(|reason| Event::MarkDisputed { reason }),
        Just(Event::ResolveDispute),
        Just(Event::Expire),
    ]
}

proptest! {
    /// Any run of events keeps the invariants: terminal states absorb everything, blocks move
    /// exactly on completion, completion needs the reviews, and every state persists.
    #[test]
    fn random_event_runs_keep_the_invariants(
        inter_rir in any::<bool>(),
        large_transfer in any::<bool>(),
        events in proptest::collection::vec(any_event(), 0..40),
    ) {
        let ctx = WorkflowContext { inter_rir, large_transfer, ..inter() };
        let mut state = State::INITIAL;
        let mut approvals = Vec::new();
        for event in events {
            let Ok(t) = apply(&ctx, &state, &event) else { continue };
            prop_assert!(!state.is_terminal(), "{state} left by {event}");
            prop_assert_eq!(t.effects.contains(&Effect::MoveBlocks), t.next == State::Completed);
            if !inter_rir {
                prop_assert!(t.next.review_step() != Some(ReviewStep::RecipientReview));
            }
            if let Event::Approve { side, .. } = event {
                approvals.push(side);
            }
            if t.next == State::Completed {
                let expected = if inter_rir { vec![Side::Source, Side::Recipient] } else { vec![Side::Source] };
                prop_assert_eq!(&approvals, &expected);
            }
            let (name, detail) = t.next.to_parts();
            prop_assert_eq!(State::from_parts(name, detail.as_deref()), Ok(t.next.clone()));
            state = t.next;
        }
    }
}

#[test]
fn terminal_names_match_is_terminal() {
    for inter_rir in [false, true] {
        for state in representative_states(inter_rir) {
            let listed = State::TERMINAL_NAMES.contains(&state.as_str());
            assert_eq!(listed, state.is_terminal(), "{state}");
        }
    }
}

#[test]
fn hostmaster_step_names_match_waiting_on() {
    for inter_rir in [false, true] {
        for state in representative_states(inter_rir) {
            let listed = State::HOSTMASTER_STEP_NAMES
                .iter()
                .find(|(name, _)| *name == state.as_str())
                .map(|(_, side)| Party::Hostmasters(*side));
            let waiting = state
                .waiting_on()
                .filter(|p| matches!(p, Party::Hostmasters(_)));
            assert_eq!(listed, waiting, "{state}");
        }
    }
}
