// The calendar grid: FullCalendar drawing the bookings of the page's period.
// The page's own links move between periods, so the grid and the table below always show
// the same window. Times arrive as local wall-clock times in each resource's zone and are
// drawn as given (the calendar runs in UTC so that nothing is shifted).
"use strict";

(function () {
  const element = document.getElementById("calendar");
  const optionsNode = document.getElementById("calendar-options");
  if (!element || !optionsNode || typeof window.FullCalendar === "undefined") {
    return;
  }
  const options = JSON.parse(optionsNode.textContent);
  const extraParams = {};
  if (options.resource !== null) {
    extraParams.resource = String(options.resource);
  }
  const hourMinute = { hour: "2-digit", minute: "2-digit", hour12: false };

  // With one resource shown, dragging over free time opens the booking form for that slot.
  // ISO strings are cut to "YYYY-MM-DDTHH:MM": wall-clock time, as the form expects.
  const selectable = options.resource !== null;
  function bookSlot(info) {
    const query = new URLSearchParams({
      resource: String(options.resource),
      start: info.startStr.slice(0, 16),
      end: info.endStr.slice(0, 16),
    });
    window.location.assign(options.bookUrl + "?" + query.toString());
  }

  const calendar = new window.FullCalendar.Calendar(element, {
    initialView: options.initialView,
    initialDate: options.initialDate,
    timeZone: "UTC",
    headerToolbar: false,
    firstDay: 1,
    contentHeight: 640,
    allDaySlot: false,
    nowIndicator: false,
    scrollTime: "08:00:00",
    slotLabelFormat: hourMinute,
    eventTimeFormat: hourMinute,
    dayMaxEvents: 4,
    events: { url: options.feedUrl, extraParams: extraParams },
    selectable: selectable,
    selectMirror: true,
    select: bookSlot,
    dayCellDidMount: function (info) {
      // A month cell named after its date alone would hide the bookings inside it from
      // assistive technology; let the cell's content speak instead.
      info.el.removeAttribute("aria-labelledby");
    },
    eventDidMount: function (info) {
      const props = info.event.extendedProps;
      // A tooltip that names the zone, for pointer users; the table says the same in text.
      info.el.setAttribute("title", info.event.title + " (" + props.zone + ")");
    },
  });
  calendar.render();
})();
