"""The desk: a case's lifecycle, assignment, proposal, outcome and STOR on ``cases``; notes,
four-eyes reviews and the per-state counts in tables of their own; the queue's indexes.

Existing cases start New, unassigned, at version 1; their AI determination and rank are
copied from their newest finished run, and the counts are taken once here.

Revision ID: 0002_desk
Revises: 0001_record
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_desk"
down_revision = "0001_record"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)
NEW_COLUMNS = (
    sa.Column("state", sa.String(length=16), server_default="new", nullable=False),
    sa.Column("version", sa.Integer(), server_default="1", nullable=False),
    sa.Column("assignee", sa.String(length=64), nullable=True),
    sa.Column("trader", sa.String(length=64), server_default="", nullable=False),
    sa.Column("subject_key", sa.String(length=200), server_default="", nullable=False),
    sa.Column("score", sa.Integer(), server_default="0", nullable=False),
    sa.Column("ai_determination", sa.String(length=32), nullable=True),
    sa.Column("ai_confidence", sa.Integer(), nullable=True),
    sa.Column("rank", sa.Integer(), server_default="4999", nullable=False),
    sa.Column("proposed_outcome", sa.String(length=16), nullable=True),
    sa.Column("proposal_mode", sa.String(length=16), nullable=True),
    sa.Column("reason_code", sa.String(length=64), nullable=True),
    sa.Column("rationale", sa.Text(), nullable=True),
    sa.Column("proposed_by", sa.String(length=64), nullable=True),
    sa.Column("proposed_at", TIME, nullable=True),
    sa.Column("outcome", sa.String(length=16), nullable=True),
    sa.Column("decided_at", TIME, nullable=True),
    sa.Column("stor_status", sa.String(length=16), nullable=True),
    sa.Column("stor_reference", sa.String(length=128), nullable=True),
    sa.Column("stor_submitted_on", sa.Date(), nullable=True),
)
INDEXES = (
    ("ix_cases_rank", ["rank", "created_at", "alert_id"]),
    ("ix_cases_created", ["created_at", "alert_id"]),
    ("ix_cases_state_rank", ["state", "rank", "created_at", "alert_id"]),
    ("ix_cases_state_created", ["state", "created_at", "alert_id"]),
    ("ix_cases_assignee_state", ["assignee", "state", "rank", "created_at", "alert_id"]),
    ("ix_cases_determination_created", ["ai_determination", "created_at", "alert_id"]),
    ("ix_cases_trader", ["trader", "created_at"]),
    ("ix_cases_symbol", ["symbol", "created_at"]),
    ("ix_cases_subject_key", ["subject_key"]),
)


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch_op:
        for column in NEW_COLUMNS:
            batch_op.add_column(column._copy())
    with op.batch_alter_table("cases") as batch_op:
        for name, columns in INDEXES:
            batch_op.create_index(name, columns, unique=False)
    op.create_table(
        "case_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=128), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.alert_id"], name=op.f("fk_case_notes_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_notes")),
    )
    with op.batch_alter_table("case_notes") as batch_op:
        batch_op.create_index("ix_case_notes_case", ["case_id", "id"], unique=False)
    op.create_table(
        "case_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=128), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("proposed_outcome", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.alert_id"], name=op.f("fk_case_reviews_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_reviews")),
    )
    with op.batch_alter_table("case_reviews") as batch_op:
        batch_op.create_index("ix_case_reviews_case", ["case_id", "id"], unique=False)
    op.create_table(
        "case_counts",
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_case_counts")),
    )
    # Existing cases: their newest finished run's determination, their subject for search, the counts.
    op.execute("""
        UPDATE cases SET subject_key = lower(subject),
          ai_determination = (SELECT r.determination FROM runs r WHERE r.case_id = cases.alert_id
                              AND r.determination IS NOT NULL ORDER BY r.created_at DESC LIMIT 1),
          ai_confidence = (SELECT r.confidence FROM runs r WHERE r.case_id = cases.alert_id
                           AND r.determination IS NOT NULL ORDER BY r.created_at DESC LIMIT 1)""")
    op.execute("""
        UPDATE cases SET rank = CASE ai_determination WHEN 'ESCALATE' THEN 1999
          WHEN 'NEEDS_HUMAN_REVIEW' THEN 2999 WHEN 'CLOSE' THEN 3999 ELSE 4999 END""")
    op.execute("INSERT INTO case_counts (state, n) SELECT 'new', count(*) FROM cases")
    for state in ("in_progress", "proposed", "closed", "escalated"):
        op.execute(f"INSERT INTO case_counts (state, n) VALUES ('{state}', 0)")  # noqa: S608 - constants


def downgrade() -> None:
    op.drop_table("case_counts")
    op.drop_table("case_reviews")
    op.drop_table("case_notes")
    with op.batch_alter_table("cases") as batch_op:
        for name, _columns in INDEXES:
            batch_op.drop_index(name)
        for column in NEW_COLUMNS:
            batch_op.drop_column(column.name)
