"""departments, inboxes, escalations, plan and timeline

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 09:26:40.485852
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    
    op.create_table('tasks',
    sa.Column('task_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('order_no', sa.String(length=64), nullable=False),
    sa.Column('workflow_id', sa.String(length=128), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('context', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('task_id'),
    schema='aftersales'
    )
    op.create_index(op.f('ix_aftersales_tasks_order_no'), 'tasks', ['order_no'], unique=False, schema='aftersales')
    op.create_index('ix_aftersales_tasks_state_due', 'tasks', ['state', 'due_at'], unique=False, schema='aftersales')
    op.create_table('tasks',
    sa.Column('task_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('order_no', sa.String(length=64), nullable=False),
    sa.Column('workflow_id', sa.String(length=128), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('context', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('task_id'),
    schema='engineering'
    )
    op.create_index(op.f('ix_engineering_tasks_order_no'), 'tasks', ['order_no'], unique=False, schema='engineering')
    op.create_index('ix_engineering_tasks_state_due', 'tasks', ['state', 'due_at'], unique=False, schema='engineering')
    op.create_table('escalations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('task_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('breached_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('acked_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('acked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key'),
    schema='escalation'
    )
    op.create_index(op.f('ix_escalation_escalations_order_no'), 'escalations', ['order_no'], unique=False, schema='escalation')
    op.create_index(op.f('ix_escalation_escalations_state'), 'escalations', ['state'], unique=False, schema='escalation')
    op.create_table('milestones',
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('planned', sa.Date(), nullable=False),
    sa.Column('forecast', sa.Date(), nullable=False),
    sa.Column('actual', sa.Date(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('order_no', 'name'),
    schema='planning'
    )
    op.create_table('plan_revisions',
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('milestones', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('added_manpower', sa.Integer(), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('order_no', 'revision'),
    schema='planning'
    )
    op.create_table('tasks',
    sa.Column('task_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('order_no', sa.String(length=64), nullable=False),
    sa.Column('workflow_id', sa.String(length=128), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('context', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('task_id'),
    schema='planning'
    )
    op.create_index(op.f('ix_planning_tasks_order_no'), 'tasks', ['order_no'], unique=False, schema='planning')
    op.create_index('ix_planning_tasks_state_due', 'tasks', ['state', 'due_at'], unique=False, schema='planning')
    op.create_table('timeline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key'),
    schema='planning'
    )
    op.create_index(op.f('ix_planning_timeline_at'), 'timeline', ['at'], unique=False, schema='planning')
    op.create_index(op.f('ix_planning_timeline_order_no'), 'timeline', ['order_no'], unique=False, schema='planning')
    op.create_table('tasks',
    sa.Column('task_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('order_no', sa.String(length=64), nullable=False),
    sa.Column('workflow_id', sa.String(length=128), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('context', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('task_id'),
    schema='procurement'
    )
    op.create_index(op.f('ix_procurement_tasks_order_no'), 'tasks', ['order_no'], unique=False, schema='procurement')
    op.create_index('ix_procurement_tasks_state_due', 'tasks', ['state', 'due_at'], unique=False, schema='procurement')
    op.create_table('tasks',
    sa.Column('task_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('order_no', sa.String(length=64), nullable=False),
    sa.Column('workflow_id', sa.String(length=128), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('context', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('task_id'),
    schema='production'
    )
    op.create_index(op.f('ix_production_tasks_order_no'), 'tasks', ['order_no'], unique=False, schema='production')
    op.create_index('ix_production_tasks_state_due', 'tasks', ['state', 'due_at'], unique=False, schema='production')
    op.create_table('tasks',
    sa.Column('task_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('order_no', sa.String(length=64), nullable=False),
    sa.Column('workflow_id', sa.String(length=128), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('context', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('task_id'),
    schema='quality'
    )
    op.create_index(op.f('ix_quality_tasks_order_no'), 'tasks', ['order_no'], unique=False, schema='quality')
    op.create_index('ix_quality_tasks_state_due', 'tasks', ['state', 'due_at'], unique=False, schema='quality')
    op.create_table('intake_requests',
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('request_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('idempotency_key', 'subject'),
    schema='sales'
    )
    op.create_table('orders',
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('workflow_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('customer', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('project_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('contract_no', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('technical_agreement_ref', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('drawing_refs', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('requested_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('priority', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('order_no'),
    schema='sales'
    )
    op.create_index(op.f('ix_sales_orders_customer'), 'orders', ['customer'], unique=False, schema='sales')
    op.create_index(op.f('ix_sales_orders_stage'), 'orders', ['stage'], unique=False, schema='sales')
    op.create_index(op.f('ix_sales_orders_status'), 'orders', ['status'], unique=False, schema='sales')
    op.create_table('tasks',
    sa.Column('task_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('order_no', sa.String(length=64), nullable=False),
    sa.Column('workflow_id', sa.String(length=128), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('context', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('task_id'),
    schema='sales'
    )
    op.create_index(op.f('ix_sales_tasks_order_no'), 'tasks', ['order_no'], unique=False, schema='sales')
    op.create_index('ix_sales_tasks_state_due', 'tasks', ['state', 'due_at'], unique=False, schema='sales')
    op.create_table('tasks',
    sa.Column('task_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('order_no', sa.String(length=64), nullable=False),
    sa.Column('workflow_id', sa.String(length=128), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('context', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('task_id'),
    schema='warehouse'
    )
    op.create_index(op.f('ix_warehouse_tasks_order_no'), 'tasks', ['order_no'], unique=False, schema='warehouse')
    op.create_index('ix_warehouse_tasks_state_due', 'tasks', ['state', 'due_at'], unique=False, schema='warehouse')
    op.create_table('deliveries',
    sa.Column('escalation_id', sa.Integer(), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalation.escalations.id'], ),
    sa.PrimaryKeyConstraint('escalation_id', 'url'),
    schema='escalation'
    )
    op.create_table('order_lines',
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('item', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('qty', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.ForeignKeyConstraint(['order_no'], ['sales.orders.order_no'], ),
    sa.PrimaryKeyConstraint('order_no', 'line_no'),
    schema='sales'
    )
    


def downgrade() -> None:
    
    op.drop_table('order_lines', schema='sales')
    op.drop_table('deliveries', schema='escalation')
    op.drop_index('ix_warehouse_tasks_state_due', table_name='tasks', schema='warehouse')
    op.drop_index(op.f('ix_warehouse_tasks_order_no'), table_name='tasks', schema='warehouse')
    op.drop_table('tasks', schema='warehouse')
    op.drop_index('ix_sales_tasks_state_due', table_name='tasks', schema='sales')
    op.drop_index(op.f('ix_sales_tasks_order_no'), table_name='tasks', schema='sales')
    op.drop_table('tasks', schema='sales')
    op.drop_index(op.f('ix_sales_orders_status'), table_name='orders', schema='sales')
    op.drop_index(op.f('ix_sales_orders_stage'), table_name='orders', schema='sales')
    op.drop_index(op.f('ix_sales_orders_customer'), table_name='orders', schema='sales')
    op.drop_table('orders', schema='sales')
    op.drop_table('intake_requests', schema='sales')
    op.drop_index('ix_quality_tasks_state_due', table_name='tasks', schema='quality')
    op.drop_index(op.f('ix_quality_tasks_order_no'), table_name='tasks', schema='quality')
    op.drop_table('tasks', schema='quality')
    op.drop_index('ix_production_tasks_state_due', table_name='tasks', schema='production')
    op.drop_index(op.f('ix_production_tasks_order_no'), table_name='tasks', schema='production')
    op.drop_table('tasks', schema='production')
    op.drop_index('ix_procurement_tasks_state_due', table_name='tasks', schema='procurement')
    op.drop_index(op.f('ix_procurement_tasks_order_no'), table_name='tasks', schema='procurement')
    op.drop_table('tasks', schema='procurement')
    op.drop_index(op.f('ix_planning_timeline_order_no'), table_name='timeline', schema='planning')
    op.drop_index(op.f('ix_planning_timeline_at'), table_name='timeline', schema='planning')
    op.drop_table('timeline', schema='planning')
    op.drop_index('ix_planning_tasks_state_due', table_name='tasks', schema='planning')
    op.drop_index(op.f('ix_planning_tasks_order_no'), table_name='tasks', schema='planning')
    op.drop_table('tasks', schema='planning')
    op.drop_table('plan_revisions', schema='planning')
    op.drop_table('milestones', schema='planning')
    op.drop_index(op.f('ix_escalation_escalations_state'), table_name='escalations', schema='escalation')
    op.drop_index(op.f('ix_escalation_escalations_order_no'), table_name='escalations', schema='escalation')
    op.drop_table('escalations', schema='escalation')
    op.drop_index('ix_engineering_tasks_state_due', table_name='tasks', schema='engineering')
    op.drop_index(op.f('ix_engineering_tasks_order_no'), table_name='tasks', schema='engineering')
    op.drop_table('tasks', schema='engineering')
    op.drop_index('ix_aftersales_tasks_state_due', table_name='tasks', schema='aftersales')
    op.drop_index(op.f('ix_aftersales_tasks_order_no'), table_name='tasks', schema='aftersales')
    op.drop_table('tasks', schema='aftersales')
    
