// Package alertmanager receives Alertmanager's webhook notifications and
// hands every alert in them to the pipeline as an alarm event, so that
// alarms raised elsewhere join seer's incidents.
//
// The entity of an alert is its "service" label, else its "job", else its
// "instance", else its "alertname". Its labels become the event's
// attributes, its annotations attributes prefixed "annotation.", and
// "status" says firing or resolved. A firing alert is timed at startsAt, a
// resolved one at endsAt.
package alertmanager
