import { sql, type Kysely } from 'kysely';

/*
 * The status of every milestone cell (program, milestone, consortium or '' for program scope),
 * kept in the append transaction. refresh_milestone_cell() folds one cell's events with the rules
 * of src/domain/status-fold.ts (SPEC §4); the tests hold the two equal on random histories.
 * Overdue depends on "now", so readers compute it from due.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table milestone_cell (
      program_id text not null,
      milestone text not null,
      consortium_id text not null default '',
      status text not null check (status in ('planned', 'in_progress', 'achieved', 'missed', 'cancelled')),
      since_value text not null,
      since_precision text not null,
      since_start timestamptz not null,
      since_end timestamptz not null,
      due_value text,
      evidence uuid[] not null,
      -- World-time place of the latest event folded in: a later event can be applied on top.
      last_start timestamptz not null,
      last_position bigint not null,
      primary key (program_id, milestone, consortium_id)
    )`.execute(db);
  await sql`create index milestone_cell_consortium on milestone_cell (consortium_id, program_id)`.execute(db);
  // The cell fold reads a program's events by milestone, and a consortium's by program.
  await sql`create index event_program_milestone on event (program_id, milestone) where milestone is not null`.execute(db);
  await sql`create index event_consortium_program on event (consortium_id, program_id) where consortium_id is not null`.execute(db);

  /*
   * Folds one cell. Given the ids of the events an append has just written, and when they all
   * come later in world time than what the cell has folded (the usual case: news arrives in
   * order), it applies them to the stored state; otherwise (a late event, a retraction, a new
   * plan or enrolment, or a rebuild, which passes no ids) it folds the cell's whole history.
   */
  await sql`
    create function refresh_milestone_cell(p_program text, p_milestone text, p_consortium text, p_new_ids uuid[])
    returns void language plpgsql set plan_cache_mode = force_generic_plan set jit = off as $$
    declare
      v_cell milestone_cell;
      v_definition record;
      v_incremental boolean := false;
      v_plan event;
      v_scope text;
      v_due text;
      v_status text := 'planned';
      v_next text;
      v_since_value text;
      v_since_precision text;
      v_since_start timestamptz;
      v_since_end timestamptz;
      v_last_start timestamptz;
      v_last_position bigint;
      v_evidence uuid[] := '{}';
      v_events refcursor;
      r event;
    begin
      -- One writer at a time per cell, and the events read only once the lock is held: a fold
      -- started before a concurrent append committed would otherwise overwrite the cell without it.
      perform pg_advisory_xact_lock(hashtextextended('milestone_cell/' || p_program || '/' || p_milestone || '/' || p_consortium, 0));

      -- Whether the cell exists at all, from the registry that appends are checked against (its keys
      -- are built as in src/domain/event-references.ts): definitions are never retracted.
      select d.scope, d.position into v_definition from reference d
      where d.kind = 'milestone' and d.key = p_program || '/' || p_milestone;
      v_scope := v_definition.scope;
      if v_scope is null
         or (v_scope = 'program') <> (p_consortium = '')
         or (v_scope = 'consortium' and not exists (
               select 1 from reference en where en.kind = 'enrolment' and en.key = p_consortium || '@' || p_program)) then
        delete from milestone_cell c
        where c.program_id = p_program and c.milestone = p_milestone and c.consortium_id = p_consortium;
        return;
      end if;

      if p_new_ids is not null then
        select * into v_cell from milestone_cell c
        where c.program_id = p_program and c.milestone = p_milestone and c.consortium_id = p_consortium;
        v_incremental := found and not exists (
          select 1 from event e where e.id = any (p_new_ids)
            and (e.type in ('milestone.planned', 'consortium.enrolled', 'event.retracted')
                 or (e.occurred_start, e.position) < (v_cell.last_start, v_cell.last_position)));
      end if;

      if v_incremental then
        v_status := v_cell.status;
        v_due := v_cell.due_value;
        v_evidence := v_cell.evidence;
        v_since_value := v_cell.since_value;
        v_since_precision := v_cell.since_precision;
        v_since_start := v_cell.since_start;
        v_since_end := v_cell.since_end;
        v_last_start := v_cell.last_start;
        v_last_position := v_cell.last_position;
      else
        select e.* into v_plan from event e where e.position = v_definition.position;
        v_due := v_plan.data ->> 'due';
        v_since_value := v_plan.occurred_value;
        v_since_precision := v_plan.occurred_precision;
        v_since_start := v_plan.occurred_start;
        v_since_end := v_plan.occurred_end;
      end if;

      -- Two queries rather than one with a flag, so that each gets a plan of its own: the new
      -- events by id, or the cell's whole history by program and milestone.
      if v_incremental then
        open v_events for
          -- OFFSET 0 keeps the look-up by id first: a generic plan would otherwise scan the cell's events.
          select e.* from (select x.* from event x where x.id = any (p_new_ids) offset 0) e
          where ((e.program_id = p_program and e.milestone = p_milestone
                  and (e.type = 'milestone.rescheduled'
                       or (e.type in ('mou.signed', 'seminar.held', 'pilot.started', 'pilot.completed', 'model.announced',
                                      'evaluation.held', 'milestone.started', 'milestone.achieved', 'milestone.missed',
                                      'milestone.cancelled')
                           and (v_scope = 'program' or e.consortium_id = p_consortium))))
              or (p_consortium <> '' and e.consortium_id = p_consortium and e.program_id = p_program
                  and e.type = 'consortium.eliminated'))
          order by e.occurred_start, e.position;
      else
        open v_events for
          select e.* from event e
          where not exists (select 1 from retraction x where x.event_id = e.id)
            and ((e.program_id = p_program and e.milestone = p_milestone
                  and (e.type in ('milestone.planned', 'milestone.rescheduled')
                       or (e.type in ('mou.signed', 'seminar.held', 'pilot.started', 'pilot.completed', 'model.announced',
                                      'evaluation.held', 'milestone.started', 'milestone.achieved', 'milestone.missed',
                                      'milestone.cancelled')
                           and (v_scope = 'program' or e.consortium_id = p_consortium))))
              or (p_consortium <> '' and e.consortium_id = p_consortium and e.program_id = p_program
                  and e.type in ('consortium.enrolled', 'consortium.eliminated')))
          order by e.occurred_start, e.position;
      end if;
      loop
        fetch v_events into r;
        exit when not found;
        v_evidence := v_evidence || r.id;
        v_last_start := r.occurred_start;
        v_last_position := r.position;
        -- While nothing has moved it, a cell is planned since its latest defining event.
        if r.type in ('milestone.planned', 'consortium.enrolled') and v_status = 'planned' then
          v_since_value := r.occurred_value;
          v_since_precision := r.occurred_precision;
          v_since_start := r.occurred_start;
          v_since_end := r.occurred_end;
        end if;
        if r.type = 'milestone.rescheduled' then
          v_due := r.data ->> 'due';
        end if;
        v_next := case
          when r.type = 'consortium.eliminated' then
            case when v_status in ('planned', 'in_progress') then 'cancelled' else v_status end
          when r.type in ('pilot.started', 'milestone.started') then
            case when v_status in ('planned', 'in_progress') then 'in_progress' else v_status end
          when r.type in ('mou.signed', 'seminar.held', 'pilot.completed', 'model.announced', 'evaluation.held',
                          'milestone.achieved') then 'achieved'
          when r.type = 'milestone.missed' then 'missed'
          when r.type = 'milestone.cancelled' then 'cancelled'
          else v_status
        end;
        if v_next <> v_status then
          v_status := v_next;
          v_since_value := r.occurred_value;
          v_since_precision := r.occurred_precision;
          v_since_start := r.occurred_start;
          v_since_end := r.occurred_end;
        end if;
      end loop;
      close v_events;

      insert into milestone_cell as c (program_id, milestone, consortium_id, status, since_value, since_precision,
                                       since_start, since_end, due_value, evidence, last_start, last_position)
      values (p_program, p_milestone, p_consortium, v_status, v_since_value, v_since_precision,
              v_since_start, v_since_end, v_due, v_evidence, v_last_start, v_last_position)
      on conflict (program_id, milestone, consortium_id) do update
        set status = excluded.status, since_value = excluded.since_value, since_precision = excluded.since_precision,
            since_start = excluded.since_start, since_end = excluded.since_end, due_value = excluded.due_value,
            evidence = excluded.evidence, last_start = excluded.last_start, last_position = excluded.last_position;
    end $$`.execute(db);

  /*
   * The cells an event can change: the cell a fact names; every cell of a milestone that is planned
   * or rescheduled; a consortium's cells in a program it joins or leaves. A retraction touches what
   * its target touched. Only these are refreshed, never the whole store.
   */
  await sql`
    create function touched_milestone_cells(p_event_ids uuid[])
    returns table (program_id text, milestone text, consortium_id text) language plpgsql stable
    set plan_cache_mode = force_generic_plan set jit = off as $$
    begin
      -- Each branch starts from the appended events and looks up by program (LATERAL), so the cost
      -- follows the program touched, not the size of the log.
      return query
      with subject as materialized (
        select coalesce(t.type, e.type) as type, e.program_id, e.milestone, e.consortium_id
        from event e
        left join lateral (select x.type from event x where e.type = 'event.retracted' and x.id = (e.data ->> 'eventId')::uuid) t on true
        where e.id = any (p_event_ids) and e.program_id is not null
      )
      select s.program_id, s.milestone, c.consortium_id
      from subject s cross join lateral (values (''), (coalesce(s.consortium_id, ''))) as c(consortium_id)
      where s.milestone is not null and s.type not in ('milestone.planned', 'milestone.rescheduled')
      union
      select s.program_id, s.milestone, en.consortium_id
      from subject s cross join lateral (
        select coalesce(x.consortium_id, '') as consortium_id from event x
        where x.program_id = s.program_id and x.type = 'consortium.enrolled'
        union all select ''
      ) en
      where s.type in ('milestone.planned', 'milestone.rescheduled')
      union
      select s.program_id, p.milestone, s.consortium_id
      from subject s cross join lateral (
        select x.milestone from event x where x.program_id = s.program_id and x.type = 'milestone.planned'
      ) p
      where s.type in ('consortium.enrolled', 'consortium.eliminated');
    end $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function touched_milestone_cells(uuid[])`.execute(db);
  await sql`drop function refresh_milestone_cell(text, text, text, uuid[])`.execute(db);
  await sql`drop index event_program_milestone, event_consortium_program`.execute(db);
  await sql`drop table milestone_cell`.execute(db);
}
