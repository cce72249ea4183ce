"""audit subject index: an account's history (decisions, enforcement, reveals of its media) is read by subject (issue 18)

Revision ID: 0010
Revises: 0009
"""
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_audit_subject', 'audit_log', ['subject_type', 'subject_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_subject', table_name='audit_log')
