// Remote sound plays from hidden <audio> elements, whatever the layout shows: you hear
// everyone, including people on another page of the grid.
import { $ } from "./dom.js";
import { LK, onRoom, session } from "./session.js";

const sink = $("audio-sink");

onRoom((room) => {
  sink.replaceChildren();
  room
    .on(LK.RoomEvent.TrackSubscribed, (track) => {
      if (track.kind === LK.Track.Kind.Audio) sink.append(track.attach());
    })
    .on(LK.RoomEvent.TrackUnsubscribed, (track) => {
      if (track.kind === LK.Track.Kind.Audio) track.detach().forEach((element) => element.remove());
    })
    .on(LK.RoomEvent.Disconnected, () => room === session.room && sink.replaceChildren());
});
