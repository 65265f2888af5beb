"""The plant's working time: its zone, shifts, work week, public holidays with make-up working
days, and the plant's own exceptions (issue 13). Every clock, plan date and schedule counts in
it; `calendar.py` holds the pure rules over the values of `data.py` (one day's rules in
`days.py`, wall times through daylight saving in `local_time.py`), `public.py` what the holiday
library says, `clocks.py` the clocks a workflow asks to have resolved, `store.py` the
exceptions planning keeps."""
