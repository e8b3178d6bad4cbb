/**
 * Hand-curated vocabulary for the generator: what real Meetup events of each category talk about.
 * The shared capture is small (758 records, some categories absent), so the generator blends its
 * per-category word counts (generator-model.json) with these lists; together they make generated
 * descriptions whose words depend on the category the way real ones do.
 *
 * The two categories the classifier tells apart (outdoors-adventure, tech) are built from
 * CATEGORY_THEMES alone, broad enough to transfer to real posts the capture never showed (its 81
 * such events are too few to learn a vocabulary from and are what the transfer test scores):
 * themes per group, places, off-topic and vague events in both (OFF_TOPIC), social and logistics
 * words shared by every category (GENERIC_WORDS), some groups writing in their local language.
 */

/** Per category (by shortname): topic words for descriptions, and event-name phrases (outdoors and tech: CATEGORY_THEMES). */
export const CATEGORY_VOCABULARY: Record<string, { words: string[]; names: string[] }> = {
  'arts-culture': {
    words: ['art', 'gallery', 'museum', 'exhibit', 'artists', 'painting', 'theater', 'culture', 'sculpture', 'curator', 'opening', 'tour', 'collection', 'performance', 'opera', 'ballet', 'artwork', 'contemporary'],
    names: ['Gallery Night', 'Museum Tour', 'Art Walk', 'Theater Outing', 'Exhibit Opening', 'Opera Evening', 'Sketch & Wine'],
  },
  'career-business': {
    words: ['business', 'networking', 'entrepreneurs', 'career', 'professionals', 'marketing', 'sales', 'leadership', 'investors', 'founders', 'clients', 'pitch', 'strategy', 'growth', 'connections', 'industry', 'speaker', 'resume', 'linkedin', 'revenue'],
    names: ['Business Networking Mixer', 'Entrepreneurs Breakfast', 'Career Workshop', 'Founders Pitch Night', 'Marketing Masterclass', 'Leadership Lunch', 'Small Business Roundtable'],
  },
  'cars-motorcycles': {
    words: ['cars', 'ride', 'motorcycle', 'engine', 'drive', 'garage', 'bikes', 'track', 'rally', 'cruise', 'classic', 'mustang', 'harley', 'horsepower', 'detailing', 'route'],
    names: ['Sunday Cruise', 'Cars & Coffee', 'Motorcycle Ride', 'Track Day', 'Classic Car Show', 'Canyon Run'],
  },
  'community-environment': {
    words: ['volunteer', 'community', 'cleanup', 'neighborhood', 'garden', 'recycling', 'environment', 'local', 'help', 'shelter', 'donate', 'sustainability', 'planting', 'trees', 'residents', 'nonprofit'],
    names: ['Park Cleanup', 'Volunteer Day', 'Community Garden Work Day', 'Neighborhood Meeting', 'Tree Planting', 'Food Bank Shift'],
  },
  dancing: {
    words: ['dance', 'salsa', 'bachata', 'swing', 'tango', 'lesson', 'steps', 'partner', 'floor', 'dancers', 'ballroom', 'beginners', 'rhythm', 'social', 'zouk', 'lindy'],
    names: ['Salsa Night', 'Beginner Swing Lesson', 'Tango Practica', 'Bachata Social', 'Ballroom Dance Class', 'Latin Dance Party'],
  },
  'education-learning': {
    words: ['learn', 'class', 'course', 'lecture', 'study', 'students', 'discussion', 'workshop', 'skills', 'teacher', 'topics', 'knowledge', 'seminar', 'history', 'science', 'questions'],
    names: ['Study Group', 'Lecture Series', 'Learning Workshop', 'Book Study', 'Science Cafe', 'History Talk'],
  },
  'fashion-beauty': {
    words: ['fashion', 'style', 'beauty', 'makeup', 'designer', 'clothing', 'runway', 'skincare', 'boutique', 'outfit', 'models', 'hair', 'wardrobe', 'trends'],
    names: ['Fashion Swap', 'Makeup Masterclass', 'Style Night', 'Runway Show', 'Skincare Workshop'],
  },
  fitness: {
    words: ['workout', 'run', 'training', 'bootcamp', 'fitness', 'gym', 'cardio', 'strength', 'pace', 'miles', 'running', 'crossfit', 'stretch', 'squats', 'coach', 'sweat', 'weights', 'core'],
    names: ['Morning Bootcamp', 'Saturday Run', 'Track Workout', 'HIIT Class', 'Running Club 5K', 'Strength Training'],
  },
  'food-drink': {
    words: ['food', 'wine', 'dinner', 'restaurant', 'tasting', 'beer', 'chef', 'brunch', 'menu', 'cuisine', 'cheese', 'cocktails', 'brewery', 'dishes', 'wines', 'sushi', 'coffee', 'dessert'],
    names: ['Wine Tasting', 'Foodie Dinner', 'Brewery Tour', 'Sunday Brunch', 'Cooking Class', 'Restaurant Night', 'Craft Beer Social'],
  },
  games: {
    words: ['games', 'board', 'play', 'players', 'cards', 'dice', 'strategy', 'chess', 'trivia', 'catan', 'poker', 'tabletop', 'rpg', 'tournament', 'puzzle'],
    names: ['Board Game Night', 'Trivia Night', 'Chess Club', 'Poker Night', 'Tabletop RPG Session', 'Game Day'],
  },
  lgbt: {
    words: ['lgbt', 'gay', 'lesbian', 'queer', 'pride', 'community', 'inclusive', 'transgender', 'allies', 'bisexual', 'social', 'diversity'],
    names: ['LGBT Social', 'Pride Happy Hour', 'Queer Book Club', 'Rainbow Brunch', 'Gay Hiking Group Outing'],
  },
  'government-politics': {
    words: ['politics', 'policy', 'debate', 'election', 'vote', 'candidates', 'campaign', 'government', 'council', 'party', 'rights', 'activists', 'issues', 'democracy', 'petition'],
    names: ['Policy Debate', 'Town Hall', 'Campaign Phone Bank', 'Political Discussion', 'Voter Registration Drive'],
  },
  'health-wellbeing': {
    words: ['yoga', 'meditation', 'health', 'wellness', 'healing', 'mindfulness', 'stress', 'body', 'breathing', 'nutrition', 'energy', 'holistic', 'relaxation', 'balance', 'therapy', 'oils', 'reiki', 'mind'],
    names: ['Gentle Yoga', 'Mindfulness Meditation', 'Wellness Workshop', 'Sound Healing', 'Healthy Eating Talk', 'Restorative Yoga'],
  },
  'hobbies-crafts': {
    words: ['knitting', 'crafts', 'sewing', 'quilting', 'yarn', 'project', 'supplies', 'diy', 'beads', 'paint', 'woodworking', 'patterns', 'handmade', 'crochet', 'makers'],
    names: ['Knit Night', 'Craft Circle', 'Sewing Bee', 'DIY Workshop', 'Crochet Club', 'Makers Meetup'],
  },
  language: {
    words: ['language', 'english', 'spanish', 'french', 'conversation', 'practice', 'speakers', 'native', 'exchange', 'german', 'japanese', 'fluent', 'vocabulary', 'grammar', 'culture', 'italian', 'mandarin'],
    names: ['Language Exchange', 'Spanish Conversation', 'French Cafe', 'English Practice', 'Japanese Meetup', 'German Stammtisch'],
  },
  'literature-writing': {
    words: ['book', 'reading', 'novel', 'author', 'chapter', 'discussion', 'poetry', 'writers', 'club', 'fiction', 'library', 'story', 'readers', 'pages'],
    names: ['Book Club', 'Poetry Reading', 'Author Talk', 'Classic Novels Discussion', 'Literary Salon'],
  },
  'movies-film': {
    words: ['film', 'movie', 'cinema', 'screening', 'director', 'theater', 'tickets', 'documentary', 'trailer', 'festival', 'actors', 'popcorn', 'showing', 'indie'],
    names: ['Movie Night', 'Film Screening', 'Documentary Club', 'Indie Film Festival', 'Cinema Outing'],
  },
  music: {
    words: ['music', 'band', 'concert', 'songs', 'guitar', 'jam', 'singers', 'live', 'musicians', 'piano', 'choir', 'jazz', 'open', 'mic', 'album', 'drums'],
    names: ['Open Mic', 'Jazz Night', 'Acoustic Jam', 'Live Music Outing', 'Choir Rehearsal', 'Songwriters Circle'],
  },
  'new-age-spirituality': {
    words: ['meditation', 'spiritual', 'energy', 'consciousness', 'soul', 'awakening', 'chakra', 'intuition', 'crystals', 'healing', 'universe', 'mindful', 'tarot', 'enlightenment', 'being', 'sacred'],
    names: ['Meditation Circle', 'Spiritual Awakening Talk', 'Full Moon Gathering', 'Tarot Workshop', 'Sacred Sound Bath'],
  },
  'parents-family': {
    words: ['kids', 'moms', 'parents', 'family', 'playdate', 'children', 'toddlers', 'babies', 'dads', 'playground', 'school', 'stroller', 'age', 'craft'],
    names: ['Playdate at the Park', 'Moms Night Out', 'Family Picnic', 'Toddler Story Time', 'Dads and Kids Morning'],
  },
  'pets-animals': {
    words: ['dogs', 'dog', 'pets', 'puppy', 'leash', 'cats', 'animals', 'owners', 'rescue', 'breed', 'treats', 'adoption', 'vet', 'walk'],
    names: ['Dog Park Meetup', 'Pack Walk', 'Puppy Playtime', 'Pet Adoption Day', 'Corgi Meetup'],
  },
  photography: {
    words: ['photography', 'camera', 'photos', 'lens', 'shoot', 'light', 'portrait', 'editing', 'lightroom', 'tripod', 'exposure', 'photographers', 'landscape', 'studio', 'composition'],
    names: ['Photo Walk', 'Portrait Shoot', 'Night Photography', 'Lightroom Workshop', 'Golden Hour Shoot'],
  },
  'religion-beliefs': {
    words: ['faith', 'bible', 'church', 'prayer', 'god', 'worship', 'scripture', 'belief', 'christian', 'fellowship', 'spirit', 'atheists', 'religion', 'study'],
    names: ['Bible Study', 'Prayer Breakfast', 'Faith Discussion', 'Fellowship Dinner', 'Interfaith Dialogue'],
  },
  'sci-fi-fantasy': {
    words: ['fantasy', 'scifi', 'star', 'trek', 'wars', 'comics', 'cosplay', 'dragons', 'fans', 'anime', 'series', 'geek', 'tolkien', 'galaxy'],
    names: ['Sci-Fi Book Club', 'Cosplay Meetup', 'Star Wars Marathon', 'Anime Night', 'Comic Con Prep'],
  },
  singles: {
    words: ['singles', 'dating', 'mingle', 'speed', 'match', 'single', 'romance', 'flirt', 'ages', 'ladies', 'gentlemen', 'ratio', 'party', 'love'],
    names: ['Speed Dating', 'Singles Mixer', 'Singles Happy Hour', 'Valentine Singles Party', 'Mingle Night'],
  },
  socializing: {
    words: ['friends', 'social', 'drinks', 'happy', 'hour', 'bar', 'party', 'mixer', 'night', 'fun', 'mingle', 'newcomers', 'chat', 'rooftop', 'pub', 'cheers', 'lounge'],
    names: ['Happy Hour', 'Friday Night Social', 'Newcomers Mixer', 'Rooftop Drinks', 'Pub Night', 'Weekend Social', 'After Work Drinks'],
  },
  'sports-recreation': {
    words: ['soccer', 'volleyball', 'game', 'team', 'players', 'court', 'tennis', 'league', 'match', 'basketball', 'field', 'softball', 'golf', 'pickup', 'skill', 'ball'],
    names: ['Pickup Soccer', 'Beach Volleyball', 'Tennis Doubles', 'Basketball Run', 'Softball Game', 'Bowling Night'],
  },
  support: {
    words: ['support', 'recovery', 'grief', 'anxiety', 'sharing', 'confidential', 'loss', 'depression', 'caregivers', 'healing', 'safe', 'listen', 'coping'],
    names: ['Support Circle', 'Grief Support Group', 'Anxiety Support Meeting', 'Caregivers Meeting', 'Recovery Group'],
  },
  women: {
    words: ['women', 'ladies', 'girls', 'empowerment', 'sisterhood', 'female', 'moms', 'brunch', 'confidence', 'inspiring', 'circle', 'connect'],
    names: ["Ladies' Brunch", 'Women in Business Lunch', 'Girls Night Out', 'Women Who Hike', 'Empowerment Circle'],
  },
  writing: {
    words: ['writing', 'writers', 'critique', 'manuscript', 'prompt', 'draft', 'editing', 'novel', 'workshop', 'poetry', 'pages', 'publishing', 'story', 'feedback'],
    names: ['Writers Workshop', 'Critique Group', 'Write-In', 'NaNoWriMo Session', 'Poetry Workshop'],
  },
};

/**
 * Sub-themes of the two categories the classifier tells apart. Real groups of one category talk
 * about quite different things (a kayaking club never mentions a trailhead, a JavaScript meetup
 * never mentions pandas); each generated group has one theme, so a model trained on some groups
 * must generalise to the themes of unseen ones. `core` is what every group of the category says
 * (a hiking club's and a paddling club's carpools and miles; a meetup's speakers, pizza and sponsor).
 * Entries may be phrases ("elevation gain"): a phrase is drawn as one unit. Ordered roughly by
 * how often real descriptions use them (earlier entries are drawn more often).
 */
export interface Theme {
  words: string[];
  names: string[];
}
/**
 * A themed category: its core and themes, and event-name templates — {name} is one of the
 * theme's (or core) names, {w} a theme word in title case ("Intro to Docker"), {place} a made-up
 * place ("Cedar Creek Falls": real outdoors posts name places no vocabulary knows).
 */
export interface ThemedCategory {
  core: Theme;
  themes: Theme[];
  templates: string[];
  /** Whether descriptions mention places (PLACE_NAMES + PLACE_KINDS). */
  places: boolean;
}
export const CATEGORY_THEMES: Record<string, ThemedCategory> = {
  'outdoors-adventure': {
    core: {
      words: [
        'miles', 'trail', 'carpool', 'water', 'trip', 'views', 'weather', 'gear', 'park', 'nature', 'layers', 'snacks', 'lunch', 'pace',
        'rain', 'sunscreen', 'shoes', 'moderate', 'beginners', 'difficulty', 'scenic', 'mountain', 'mountains', 'lake', 'river', 'forest',
        'beach', 'state park', 'national park', 'parking lot', 'ride share', 'drive', 'rain or shine', 'waiver', 'outing', 'explore',
        'wildlife', 'sunset', 'sunrise', 'fresh air', 'camera', 'hat', 'jacket', 'backpack', 'bug spray', 'first aid', 'terrain', 'map',
        'weekend trip', 'day trip', 'excursion', 'wilderness', 'valley', 'island', 'coast', 'shore', 'fishing', 'road trip', 'cabin', 'lodge',
        'meet at', 'turn left', 'turn right', 'road', 'highway', 'exit', 'north', 'south', 'east', 'west', 'wear', 'dress', 'heat', 'shade',
        'restrooms', 'family friendly', 'dogs welcome', 'weather permitting', 'sunglasses', 'photos', 'outdoor', 'hills', 'rangers',
      ],
      names: ['Day Trip', 'Weekend Getaway', 'Nature Walk', 'Sunset Outing', 'Full Moon Walk', 'State Park Day', 'Road Trip', 'Island Day Trip'],
    },
    themes: [
      {
        words: [
          'hike', 'hiking', 'trailhead', 'elevation gain', 'summit', 'loop', 'feet', 'hikers', 'boots', 'poles', 'switchbacks', 'waterfall',
          'falls', 'creek', 'ridge', 'peak', 'canyon', 'steep', 'strenuous', 'trails', 'mile', 'out and back', 'round trip', 'vista', 'overlook',
          'wildflowers', 'meadow', 'woods', 'rocky', 'scramble', 'descent', 'ascent', 'hiking boots', 'trekking poles', 'liters', 'gorge',
          'preserve', 'hikes', 'elevation', 'trail map', 'alltrails', 'mud', 'stream crossing', 'microspikes', 'daypack', 'wandern', 'senderismo',
        ],
        names: ['Saturday Hike', 'Summit Day Hike', 'Sunset Trail Hike', 'Canyon Loop', 'Waterfall Hike', 'Ridge Trail Hike', 'Morning Hike', 'Peak Bagging', 'Creek Trail Loop', 'Strenuous Summit Hike', 'Moderate Hike', 'Beginner Hike'],
      },
      {
        words: [
          'camping', 'campsite', 'campground', 'tent', 'tents', 'backpacking', 'overnight', 'campfire', 'sleeping bag', 'stove', 'permit',
          'firewood', 'cooler', 'headlamp', 'marshmallows', 'potluck', 'sites', 'reservation', 'backcountry', 'pack', 'bear canister',
          'water filter', 'nights', 'tarp', 'rv', 'glamping', 'camp', 'fire ring', 'stargazing', 'cabins', 'trail', 'pack weight', 'hammock',
        ],
        names: ['Camping Weekend', 'Backpacking Trip', 'Overnight Backpack', 'Car Camping Weekend', 'Campout', 'Group Campsite Weekend', 'Stargazing Campout', 'Beginner Backpacking'],
      },
      {
        words: [
          'kayak', 'kayaking', 'paddle', 'paddling', 'canoe', 'paddlers', 'launch', 'life jacket', 'pfd', 'rapids', 'whitewater', 'rafting',
          'tide', 'current', 'boats', 'boat', 'rentals', 'dry bag', 'wetsuit', 'put in', 'bay', 'sup', 'stand up paddle', 'marina', 'sailing',
          'sail', 'snorkeling', 'scuba', 'dive', 'diving', 'swim', 'wet', 'outfitter', 'river trip', 'harbor', 'kayaks', 'canoes', 'shuttle',
        ],
        names: ['Kayak Trip', 'Lake Paddle', 'Sunset Paddle', 'Canoe Trip', 'Whitewater Rafting', 'Sailing Day', 'Snorkel Trip', 'Paddleboard Meetup', 'River Float'],
      },
      {
        words: [
          'climbing', 'climb', 'climbers', 'bouldering', 'belay', 'rope', 'harness', 'crag', 'routes', 'route', 'rappel', 'chalk', 'anchor',
          'lead', 'top rope', 'climbing gym', 'climbing shoes', 'grade', 'wall', 'holds', 'helmet', 'via ferrata', 'mountaineering', 'crampons',
          'ice axe', 'glacier', 'alpine', 'rock', 'rocks', 'boulder', 'certified', 'knots', 'mountaineers', 'klettern', 'escalada',
        ],
        names: ['Climbing Night', 'Bouldering Session', 'Outdoor Climbing Day', 'Intro to Rock Climbing', 'Gym Climb', 'Alpine Climb', 'Mountaineering Skills Day'],
      },
      {
        words: [
          'bike', 'bikes', 'ride', 'cycling', 'riders', 'mountain biking', 'helmet', 'road', 'gravel', 'singletrack', 'mph', 'flat', 'tire',
          'century', 'path', 'bike path', 'bike trail', 'pedal', 'climbs', 'descents', 'rest stop', 'no drop', 'cyclists', 'rail trail',
          'tubes', 'route', 'miles', 'loop', 'cruise', 'bicycle', 'spin', 'e bike', 'ride leader', 'radtour', 'bicicleta',
        ],
        names: ['Saturday Bike Ride', 'Mountain Bike Ride', 'Rail Trail Ride', 'No-Drop Road Ride', 'Century Ride', 'Gravel Ride', 'Bike and Brunch', 'Evening Ride'],
      },
      {
        words: [
          'ski', 'skiing', 'snowboarding', 'snow', 'slopes', 'snowshoe', 'snowshoeing', 'winter', 'resort', 'lift tickets', 'lift', 'runs',
          'powder', 'cross country', 'lodge', 'chalet', 'ice', 'skate', 'skating', 'sledding', 'avalanche', 'rentals', 'goggles', 'gloves',
          'warm layers', 'apres ski', 'backcountry', 'trail pass', 'snowpack', 'cold', 'ski trip', 'mountain', 'skis',
        ],
        names: ['Ski Trip', 'Snowshoe Hike', 'Ski Weekend', 'Cross-Country Ski Day', 'Ice Skating', 'Snowboard Day', 'Winter Cabin Weekend', 'Sledding and Cocoa'],
      },
      {
        words: [
          'walk', 'walking', 'stroll', 'urban hike', 'bridge', 'waterfront', 'boardwalk', 'garden', 'gardens', 'botanical', 'history', 'tour',
          'neighborhood', 'stairs', 'birds', 'birding', 'beach walk', 'tide pools', 'cliffs', 'lighthouse', 'harbor', 'paved', 'flat',
          'leisurely', 'dogs', 'leash', 'picnic', 'bench', 'binoculars', 'path', 'pier', 'coastal', 'randonnée', 'excursión',
        ],
        names: ['Urban Hike', 'Beach Walk', 'Coastal Walk', 'Bird Walk', 'Botanical Garden Walk', 'Lighthouse Walk', 'Leisurely Walk and Picnic', 'Stairs Walk'],
      },
      {
        words: [
          'adventure', 'zipline', 'caving', 'cave', 'horseback', 'horseback riding', 'skydiving', 'paintball', 'ropes course', 'hot air balloon',
          'bungee', 'rafting', 'surfing', 'surf', 'waves', 'trip', 'travel', 'tour', 'guide', 'guided', 'adrenaline', 'thrill', 'jeep',
          'off road', 'atv', 'desert', 'dunes', 'hot springs', 'soak', 'volcano', 'safari', 'national park', 'itinerary', 'flights',
        ],
        names: ['Zipline Adventure', 'Cave Tour', 'Horseback Trail Ride', 'Surf Lesson', 'Hot Springs Trip', 'Skydiving Day', 'Desert Adventure Weekend', 'Paintball Day'],
      },
    ],
    templates: ['{name}', '{name}', '{name}', '{name} at {place}', '{name} - {place}', '{name}: {place}', '{place}', '{place} Loop'],
    places: true,
  },
  tech: {
    core: {
      words: [
        'talk', 'speakers', 'speaker', 'agenda', 'pizza', 'developers', 'software', 'code', 'engineers', 'sponsor', 'slides', 'demo',
        'presentation', 'project', 'projects', 'open source', 'github', 'web', 'app', 'apps', 'programming', 'engineering', 'developer',
        'tools', 'lightning talks', 'laptop', 'hands on', 'tutorial', 'wifi', 'hosted by', 'doors open', 'q&a', 'talks', 'platform',
        'architecture', 'production', 'framework', 'library', 'release', 'build', 'startup', 'startups', 'product', 'hackathon', 'hack night',
        'computer', 'computers', 'digital', 'online', 'internet', 'users', 'user', 'technical', 'api', 'apis', 'coding', 'coders', 'version',
        'present', 'introduction', 'overview', 'concepts', 'techniques', 'approach', 'examples', 'use cases', 'best practices', 'deep dive',
        'case study', 'lessons learned', 'challenges', 'solve', 'implementation', 'systems', 'stack', 'companies', 'company', 'industry',
        'jobs', 'recruiters', 'bio', 'cto', 'phd', 'university', 'innovation', 'google', 'microsoft', 'amazon', 'ibm', 'facebook',
        'twitter', 'heroku', 'stack overflow', 'linkedin', 'livestream', 'recording', 'youtube', 'online course',
      ],
      names: ['Tech Talk', 'Lightning Talks', 'Hack Night', 'Monthly Meetup', 'Demo Night', 'Code Workshop', 'Developer Meetup', 'Hackathon'],
    },
    themes: [
      {
        words: [
          'javascript', 'node', 'nodejs', 'react', 'angular', 'frontend', 'browser', 'css', 'html', 'npm', 'typescript', 'ember', 'jquery',
          'web apps', 'components', 'performance', 'es6', 'single page', 'websockets', 'webpack', 'gulp', 'responsive', 'mobile web',
          'web development', 'front end', 'back end', 'full stack', 'rest', 'json', 'express', 'meteor', 'backbone', 'vue',
        ],
        names: ['JavaScript Meetup', 'Node.js Night', 'React Meetup', 'AngularJS Workshop', 'Front-End Developers Meetup', 'Web Dev Night'],
      },
      {
        words: [
          'data', 'data science', 'machine learning', 'python', 'analytics', 'statistics', 'algorithms', 'algorithm', 'model', 'models', 'big data',
          'hadoop', 'spark', 'pandas', 'r', 'visualization', 'deep learning', 'neural networks', 'predictive', 'data scientists', 'dataset',
          'datasets', 'nlp', 'regression', 'clustering', 'sql', 'notebook', 'scala', 'streaming', 'ai', 'artificial intelligence', 'complexity',
          'mathematics', 'research', 'scikit', 'numpy', 'kaggle', 'bayesian', 'optimization',
        ],
        names: ['Data Science Talk', 'Machine Learning Meetup', 'Python Night', 'Big Data Meetup', 'Analytics Workshop', 'Deep Learning Reading Group', 'R Users Meetup', 'PyData Meetup'],
      },
      {
        words: [
          'cloud', 'devops', 'docker', 'kubernetes', 'containers', 'aws', 'azure', 'deployment', 'infrastructure', 'linux', 'servers', 'server',
          'continuous integration', 'monitoring', 'microservices', 'scalability', 'ops', 'automation', 'ansible', 'puppet', 'chef', 'terraform',
          'openstack', 'database', 'databases', 'postgres', 'mongodb', 'redis', 'nosql', 'distributed systems', 'logging', 'uptime',
          'site reliability', 'storage', 'vmware', 'serverless', 'pipeline',
        ],
        names: ['Cloud Architecture Meetup', 'DevOps Lightning Talks', 'Docker Meetup', 'AWS User Group', 'Kubernetes Night', 'Linux User Group', 'Database Meetup', 'OpenStack Meetup'],
      },
      {
        words: [
          'android', 'ios', 'mobile', 'swift', 'apps', 'app store', 'iphone', 'java', 'kotlin', 'objective c', 'sdk', 'devices', 'xamarin',
          'mobile apps', 'push notifications', 'apple', 'google', 'play store', 'wearables', 'smartwatch', 'tablets', 'xcode', 'ui', 'gradle',
          'app development', 'cross platform', 'phonegap', 'unity', 'game development', 'games', 'virtual reality', 'oculus', 'augmented reality',
        ],
        names: ['Android Developers Meetup', 'iOS Developers Night', 'Mobile Dev Meetup', 'Swift Study Group', 'Game Developers Meetup', 'VR Developers Meetup', 'App Builders Night'],
      },
      {
        words: [
          'security', 'hacking', 'encryption', 'privacy', 'vulnerabilities', 'penetration testing', 'malware', 'infosec', 'cyber', 'passwords',
          'exploits', 'ctf', 'crypto', 'bitcoin', 'blockchain', 'authentication', 'firewall', 'threat', 'attacks', 'forensics', 'owasp',
          'hackers', 'network security', 'tor', 'keys', 'protocol', 'identity', 'compliance', 'breach', 'ethereum',
        ],
        names: ['Security Meetup', 'OWASP Chapter Meeting', 'Capture the Flag Night', 'Bitcoin Meetup', 'Crypto and Privacy Talk', 'InfoSec Happy Hour Talk'],
      },
      {
        words: [
          'startup', 'founders', 'product', 'product management', 'ux', 'design', 'designers', 'user experience', 'mvp', 'investors', 'pitch',
          'saas', 'growth', 'lean', 'agile', 'scrum', 'customers', 'launch', 'product managers', 'prototyping', 'usability', 'metrics', 'cto',
          'funding', 'venture', 'accelerator', 'incubator', 'b2b', 'ecommerce', 'marketplace', 'roadmap', 'teams', 'remote', 'hiring',
        ],
        names: ['Startup Demo Night', 'Product Management Meetup', 'UX Design Workshop', 'Agile Practitioners Meetup', 'Founders and Developers', 'Lean Startup Circle', 'Pitch Night'],
      },
      {
        words: [
          'arduino', 'raspberry pi', 'hardware', 'electronics', 'iot', 'internet of things', 'sensors', '3d printing', '3d printer', 'makers',
          'makerspace', 'hackerspace', 'soldering', 'robotics', 'robots', 'drones', 'microcontrollers', 'circuits', 'firmware', 'cnc',
          'laser cutter', 'prototype', 'embedded', 'wearable', 'leds', 'kit', 'workshop', 'tinkering', 'open hardware', 'fpga',
        ],
        names: ['Arduino Workshop', 'Raspberry Pi Jam', 'IoT Meetup', '3D Printing Night', 'Robotics Build Night', 'Maker Night', 'Drone Builders Meetup'],
      },
      {
        words: [
          'ruby', 'rails', 'php', 'wordpress', 'drupal', 'java', 'scala', 'clojure', 'haskell', 'erlang', 'elixir', 'golang', 'go', 'rust',
          'functional programming', 'c++', '.net', 'c#', 'compiler', 'refactoring', 'testing', 'unit tests', 'tdd', 'code review', 'git',
          'patterns', 'design patterns', 'clean code', 'object oriented', 'concurrency', 'type systems', 'language', 'theme', 'plugins', 'cms',
          'emacs', 'vim', 'ide', 'perl', 'sessions', 'class', 'beginners', 'learn to code',
        ],
        names: ['Ruby on Rails Night', 'WordPress Basics', 'Build a WordPress Site', 'PHP User Group', 'Functional Programming Meetup', 'Golang Meetup', 'Clojure Dojo', 'Code Retreat', 'Learn to Code Night', 'Java User Group'],
      },
    ],
    templates: [
      '{name}', '{name}', '{name}', 'Intro to {w}', '{w} 101', '{w} Workshop', 'Hands-on {w}', '{w} Night', 'Deep Dive into {w}',
      'Getting Started with {w}', '{w} in Production', '{w} Study Group', '{w}: Lessons Learned', '{name}: {w}', 'Building with {w}', '{w} and {w}',
    ],
    places: false,
  },
};

/**
 * Groups in these countries often write in the local language (tech talk keeps its English
 * loanwords): per language, function words, shared words and the outdoors/tech topic words.
 */
export const LOCAL_LANGUAGE: Record<string, string> = { de: 'de', ch: 'de', fr: 'fr', es: 'es', mx: 'es', nl: 'nl' };
export const LOCAL_WORDS: Record<string, { function: string[]; generic: string[]; topics: Record<string, string[]> }> = {
  de: {
    function: ['der', 'die', 'das', 'und', 'mit', 'wir', 'ihr', 'zu', 'im', 'am', 'auf', 'für', 'ist', 'sind', 'ein', 'eine', 'es', 'bei', 'von'],
    generic: ['treffen', 'anmeldung', 'uhr', 'samstag', 'sonntag', 'gruppe', 'teilnehmer', 'mitglieder', 'kosten', 'bitte', 'mitbringen', 'neue', 'zusammen', 'spaß', 'abend', 'wochenende', 'treffpunkt', 'infos', 'fragen', 'danach'],
    topics: {
      'outdoors-adventure': ['wandern', 'wanderung', 'wanderweg', 'gipfel', 'berg', 'berge', 'höhenmeter', 'kilometer', 'rucksack', 'wanderschuhe', 'einkehr', 'see', 'wald', 'natur', 'aussicht', 'tour', 'bahnhof', 'regenjacke', 'proviant', 'klettern', 'radtour', 'fahrrad', 'schnee', 'zelten', 'paddeln', 'strecke', 'rundweg'],
      tech: ['vortrag', 'vorträge', 'entwickler', 'programmierung', 'software', 'daten', 'softwareentwicklung', 'sprecher', 'agenda', 'anwendungen', 'technik', 'webentwicklung', 'datenbank', 'sicherheit', 'informatik', 'projekte', 'quellcode', 'schnittstelle', 'cloud', 'javascript', 'python', 'workshop', 'hackathon', 'talk', 'slides'],
    },
  },
  fr: {
    function: ['le', 'la', 'les', 'et', 'avec', 'nous', 'vous', 'de', 'des', 'du', 'pour', 'est', 'un', 'une', 'sur', 'au', 'en', 'à'],
    generic: ['inscription', 'samedi', 'dimanche', 'groupe', 'membres', 'prix', 'merci', 'apporter', 'nouveaux', 'ensemble', 'soirée', 'week-end', 'lieu', 'questions', 'après', 'heure', 'rendez-vous'],
    topics: {
      'outdoors-adventure': ['randonnée', 'randonnées', 'sentier', 'sommet', 'montagne', 'dénivelé', 'kilomètres', 'sac à dos', 'chaussures de marche', 'lac', 'forêt', 'nature', 'vue', 'balade', 'pique-nique', 'gare', 'covoiturage', 'escalade', 'vélo', 'neige', 'camping', 'kayak', 'boucle', 'marche', 'difficulté'],
      tech: ['conférence', 'présentation', 'développeurs', 'développement', 'programmation', 'logiciel', 'données', 'intervenants', 'ordre du jour', 'applications', 'sécurité', 'base de données', 'informatique', 'projets', 'code source', 'apprentissage automatique', 'startups', 'web', 'cloud', 'javascript', 'python', 'atelier', 'talk'],
    },
  },
  es: {
    function: ['el', 'la', 'los', 'las', 'y', 'con', 'nosotros', 'de', 'del', 'para', 'es', 'un', 'una', 'en', 'al', 'por', 'que'],
    generic: ['inscripción', 'sábado', 'domingo', 'grupo', 'miembros', 'precio', 'gracias', 'traer', 'nuevos', 'juntos', 'noche', 'fin de semana', 'lugar', 'preguntas', 'después', 'hora', 'quedada'],
    topics: {
      'outdoors-adventure': ['senderismo', 'ruta', 'rutas', 'sendero', 'cumbre', 'montaña', 'desnivel', 'kilómetros', 'mochila', 'botas', 'agua', 'lago', 'bosque', 'naturaleza', 'vistas', 'excursión', 'estación', 'coche compartido', 'escalada', 'bicicleta', 'nieve', 'acampada', 'kayak', 'circular', 'dificultad'],
      tech: ['charla', 'charlas', 'ponentes', 'desarrolladores', 'desarrollo', 'programación', 'software', 'datos', 'agenda', 'aplicaciones', 'seguridad', 'base de datos', 'informática', 'proyectos', 'código', 'aprendizaje automático', 'startups', 'web', 'nube', 'javascript', 'python', 'taller'],
    },
  },
  nl: {
    function: ['de', 'het', 'een', 'en', 'met', 'wij', 'jullie', 'van', 'voor', 'is', 'op', 'in', 'aan', 'te', 'bij'],
    generic: ['aanmelden', 'zaterdag', 'zondag', 'groep', 'leden', 'kosten', 'graag', 'meenemen', 'nieuwe', 'samen', 'avond', 'weekend', 'locatie', 'vragen', 'daarna', 'uur'],
    topics: {
      'outdoors-adventure': ['wandelen', 'wandeling', 'wandelroute', 'kilometer', 'rugzak', 'wandelschoenen', 'bos', 'natuur', 'uitzicht', 'heide', 'duinen', 'strand', 'fietsen', 'fietstocht', 'klimmen', 'kano', 'kajak', 'kamperen', 'tent', 'schaatsen', 'picknick', 'station', 'carpoolen', 'route'],
      tech: ['presentatie', 'lezing', 'sprekers', 'ontwikkelaars', 'ontwikkeling', 'programmeren', 'software', 'gegevens', 'agenda', 'toepassingen', 'beveiliging', 'database', 'informatica', 'projecten', 'code', 'startups', 'web', 'cloud', 'javascript', 'python', 'workshop'],
    },
  },
};

/** First parts of made-up place names ("Cedar" Creek). */
export const PLACE_NAMES = [
  'Bear', 'Eagle', 'Cedar', 'Pine', 'Willow', 'Granite', 'Black', 'Green', 'Silver', 'Hidden', 'Crystal', 'Mill', 'Lost', 'Twin', 'Red Rock',
  'Bald', 'Cougar', 'Elk', 'Deer', 'Wolf', 'Hawk', 'Aspen', 'Sugarloaf', 'Table', 'Castle', 'Raven', 'Paradise', 'Sunset', 'Rattlesnake',
  'Mission', 'San Juan', 'Santa Ana', 'Big Basin', 'Mount Baker', 'Harriman', 'Breakneck', 'Old Rag', 'Mount Wilson', 'Tiger', 'Juniper',
  'Stony', 'Beacon', 'Shining', 'Lookout', 'Kettle', 'Blue', 'Maple', 'Laurel', 'Echo', 'Angel', 'Rainbow', 'Bridal Veil', 'Coyote',
];
/** Second parts of made-up place names (Cedar "Creek"). */
export const PLACE_KINDS = [
  'Falls', 'Lake', 'Creek', 'Ridge', 'Peak', 'Canyon', 'State Park', 'Trail', 'River', 'Mountain', 'Point', 'Valley', 'Woods', 'Gorge',
  'Hills', 'Forest', 'Bay', 'Beach', 'Island', 'Pass', 'Reservoir', 'Preserve', 'Summit', 'Meadows', 'Springs', 'Butte', 'Mesa', 'Hollow',
];

/**
 * Events of a group about something else than its topic, per category: their share and which
 * categories' topics they take (weights). Real outdoors clubs also post wine tastings, concerts,
 * ball games and holiday parties; tech groups post happy hours and networking nights. With
 * off-topic events in both classes, social words carry no label and the model must read topics.
 * `vague`: the share of events about nothing in particular (VAGUE_NAMES, generic words only):
 * more common in social outdoors clubs than in tech groups. Categories not listed: 4 % of events
 * on any topic (by category weight), 3 % vague.
 */
export const OFF_TOPIC: Record<string, { share: number; vague: number; topics: Record<string, number> }> = {
  'outdoors-adventure': {
    share: 0.15,
    vague: 0.06,
    topics: { socializing: 3, 'food-drink': 2.5, 'arts-culture': 1, music: 1, 'movies-film': 1, 'sports-recreation': 1.5, games: 0.5, dancing: 0.5, fitness: 0.5 },
  },
  tech: {
    share: 0.06,
    vague: 0.02,
    topics: { socializing: 3, 'career-business': 2.5, 'food-drink': 1, games: 1, 'education-learning': 0.5, 'movies-film': 0.3, 'sports-recreation': 0.3, music: 0.2, 'arts-culture': 0.2 },
  },
};

/** Names of events about nothing in particular. */
export const VAGUE_NAMES = [
  'Monthly Meetup', 'Members Meeting', 'Planning Session', 'Potluck', 'Annual Meeting', 'Coffee and Chat', 'Social Night', 'Meet and Greet',
  'Get Together', 'Open House', 'Welcome Night', 'Year in Review', 'End of Season Party', 'Holiday Party', 'Birthday Celebration', 'TBD',
  'Details to Follow', 'Newcomers Night', 'Organizers Meeting', 'Save the Date', 'Last Minute Meetup', 'Members Choice', 'Reunion',
];

/**
 * Words every kind of event uses (the shared noise that keeps categories from being trivially
 * separable): logistics, invitations, time, food and drinks.
 */
export const GENERIC_WORDS = [
  'join', 'us', 'rsvp', 'meet', 'bring', 'free', 'welcome', 'everyone', 'new', 'members', 'fun', 'great', 'please', 'time', 'event',
  'group', 'friends', 'people', 'evening', 'morning', 'weekend', 'saturday', 'sunday', 'friday', 'location', 'parking', 'details',
  'looking', 'forward', 'seeing', 'questions', 'contact', 'organizer', 'cost', 'cash', 'food', 'drinks', 'come', 'early',
  'late', 'start', 'finish', 'after', 'before', 'near', 'entrance', 'sign', 'table', 'name', 'tag', 'share', 'learn', 'enjoy',
  'first', 'last', 'month', 'week', 'day', 'night', 'hours', 'minutes', 'update', 'waitlist', 'spots', 'limited', 'guests', 'open',
  'meet people', 'dinner', 'drink', 'beer', 'coffee', 'afterwards', 'social', 'chat', 'community', 'experience', 'level', 'all levels',
  'sign up', 'fee', 'tickets', 'venue', 'address', 'directions', 'phone', 'email', 'cancel', 'list', 'spot', 'help', 'info', 'check',
];

/** Function words between the content words, so text reads like text. */
export const FUNCTION_WORDS = ['the', 'and', 'to', 'a', 'of', 'for', 'with', 'we', 'will', 'you', 'our', 'at', 'in', 'on', 'is', 'this', 'be', 'it', 'all', 'your'];

/** Event-name add-ons that any category uses. */
export const NAME_PREFIXES = ['', '', '', 'Weekly ', 'Monthly ', 'Saturday ', 'Sunday ', 'Friday ', 'Free ', 'Beginner ', 'Evening '];
export const NAME_SUFFIXES = ['', '', '', ' (FREE!)', ' - All Welcome', ' & Social', ' for Beginners', ' + Drinks After', ' - Newcomers Welcome', '!'];

/** Group-name patterns; {c} is the city, {t} a topic phrase of the category. */
export const GROUP_NAME_PATTERNS = ['{c} {t} Meetup', '{t} of {c}', '{c} {t} Group', 'The {c} {t} Club', '{c} {t} Society', '{t} Lovers {c}', '{c} Area {t}'];

/** Topic phrases for group names per category. */
export const GROUP_TOPICS: Record<string, string[]> = {
  'arts-culture': ['Art Lovers', 'Museum Goers', 'Culture Club', 'Gallery Hoppers'],
  'career-business': ['Business Networking', 'Entrepreneurs', 'Young Professionals', 'Startup Founders'],
  'cars-motorcycles': ['Motorcycle Riders', 'Classic Car', 'Sports Car', 'Jeep Owners'],
  'community-environment': ['Volunteers', 'Green Living', 'Neighborhood Action', 'Community Builders'],
  dancing: ['Salsa & Bachata', 'Swing Dance', 'Tango', 'Latin Dance'],
  'education-learning': ['Lifelong Learners', 'Science Cafe', 'History Buffs', 'Philosophy'],
  'fashion-beauty': ['Fashion', 'Beauty & Style', 'Vintage Fashion'],
  fitness: ['Running Club', 'Bootcamp', 'Fitness', 'CrossFit'],
  'food-drink': ['Foodies', 'Wine Tasting', 'Craft Beer', 'Dining Out'],
  games: ['Board Gamers', 'Trivia', 'Chess', 'Tabletop Games'],
  lgbt: ['LGBT Social', 'Gay Professionals', 'Queer Friends'],
  'government-politics': ['Progressive Politics', 'Libertarians', 'Civic Action', 'Young Democrats'],
  'health-wellbeing': ['Yoga', 'Meditation', 'Holistic Health', 'Essential Oils'],
  'hobbies-crafts': ['Knitting', 'Crafters', 'Makers', 'Quilting'],
  language: ['Spanish Language', 'French Conversation', 'Language Exchange', 'Japanese Culture'],
  'literature-writing': ['Book Club', 'Readers', 'Poetry', 'Literary'],
  'movies-film': ['Movie Lovers', 'Film Buffs', 'Indie Film'],
  music: ['Musicians', 'Jazz Lovers', 'Open Mic', 'Choir'],
  'new-age-spirituality': ['Meditation & Mindfulness', 'Spiritual Awakening', 'Conscious Living', 'Energy Healing'],
  'outdoors-adventure': ['Hiking', 'Outdoor Adventure', 'Hiking & Outdoors', 'Kayaking', 'Backpackers'],
  'parents-family': ['Moms', 'Parents', 'Family Fun', 'Stay at Home Dads'],
  'pets-animals': ['Dog Lovers', 'Pug', 'Cat Lovers', 'Corgi'],
  photography: ['Photography', 'Photo Walkers', 'Camera Club'],
  'religion-beliefs': ['Bible Study', 'Atheists', 'Interfaith', 'Christian Singles'],
  'sci-fi-fantasy': ['Sci-Fi & Fantasy', 'Star Trek', 'Anime', 'Comic Book'],
  singles: ['Singles', 'Single Professionals', '30s & 40s Singles'],
  socializing: ['Social Club', 'Newcomers', 'Fun & Friends', 'After Work Social', 'Expats'],
  'sports-recreation': ['Soccer', 'Volleyball', 'Tennis', 'Sports & Social', 'Pickup Basketball'],
  support: ['Grief Support', 'Anxiety Support', 'Caregivers'],
  tech: ['JavaScript', 'Python', 'Data Science', 'Tech Startups', 'Cloud Computing', 'Android Developers', 'DevOps'],
  women: ['Women in Business', 'Ladies Who Brunch', 'Women Who Hike'],
  writing: ['Writers', 'Fiction Writers', 'Screenwriters'],
};

/**
 * Cities groups and venues are in, with a weight for how many events happen there, tuned to the
 * original system's reference figures (group countries: us ≈ 61 %, gb ≈ 8.6 %, ca ≈ 5.6 % of
 * events; top cities New York ≈ 8 %, London ≈ 4.5 %).
 */
export interface City {
  city: string;
  country: string;
  state?: string;
  lat: number;
  lon: number;
  /** Standard-time offset from UTC, hours. */
  utcOffsetH: number;
  currency: string;
  weight: number;
}

export const CITIES: City[] = [
  { city: 'New York', country: 'us', state: 'NY', lat: 40.72, lon: -74.0, utcOffsetH: -5, currency: 'USD', weight: 8 },
  { city: 'Brooklyn', country: 'us', state: 'NY', lat: 40.65, lon: -73.95, utcOffsetH: -5, currency: 'USD', weight: 1.5 },
  { city: 'Los Angeles', country: 'us', state: 'CA', lat: 34.05, lon: -118.24, utcOffsetH: -8, currency: 'USD', weight: 4 },
  { city: 'San Francisco', country: 'us', state: 'CA', lat: 37.77, lon: -122.42, utcOffsetH: -8, currency: 'USD', weight: 4 },
  { city: 'Chicago', country: 'us', state: 'IL', lat: 41.88, lon: -87.63, utcOffsetH: -6, currency: 'USD', weight: 3.5 },
  { city: 'Washington', country: 'us', state: 'DC', lat: 38.9, lon: -77.04, utcOffsetH: -5, currency: 'USD', weight: 3 },
  { city: 'Boston', country: 'us', state: 'MA', lat: 42.36, lon: -71.06, utcOffsetH: -5, currency: 'USD', weight: 3 },
  { city: 'Seattle', country: 'us', state: 'WA', lat: 47.61, lon: -122.33, utcOffsetH: -8, currency: 'USD', weight: 3 },
  { city: 'Austin', country: 'us', state: 'TX', lat: 30.27, lon: -97.74, utcOffsetH: -6, currency: 'USD', weight: 2.5 },
  { city: 'Denver', country: 'us', state: 'CO', lat: 39.74, lon: -104.99, utcOffsetH: -7, currency: 'USD', weight: 2.5 },
  { city: 'San Diego', country: 'us', state: 'CA', lat: 32.72, lon: -117.16, utcOffsetH: -8, currency: 'USD', weight: 2.5 },
  { city: 'Atlanta', country: 'us', state: 'GA', lat: 33.75, lon: -84.39, utcOffsetH: -5, currency: 'USD', weight: 2.5 },
  { city: 'Philadelphia', country: 'us', state: 'PA', lat: 39.95, lon: -75.17, utcOffsetH: -5, currency: 'USD', weight: 2 },
  { city: 'Houston', country: 'us', state: 'TX', lat: 29.76, lon: -95.37, utcOffsetH: -6, currency: 'USD', weight: 2 },
  { city: 'Dallas', country: 'us', state: 'TX', lat: 32.78, lon: -96.8, utcOffsetH: -6, currency: 'USD', weight: 2 },
  { city: 'Portland', country: 'us', state: 'OR', lat: 45.52, lon: -122.68, utcOffsetH: -8, currency: 'USD', weight: 2 },
  { city: 'Phoenix', country: 'us', state: 'AZ', lat: 33.45, lon: -112.07, utcOffsetH: -7, currency: 'USD', weight: 2 },
  { city: 'Miami', country: 'us', state: 'FL', lat: 25.76, lon: -80.19, utcOffsetH: -5, currency: 'USD', weight: 2 },
  { city: 'Minneapolis', country: 'us', state: 'MN', lat: 44.98, lon: -93.27, utcOffsetH: -6, currency: 'USD', weight: 1.5 },
  { city: 'Pasadena', country: 'us', state: 'CA', lat: 34.15, lon: -118.14, utcOffsetH: -8, currency: 'USD', weight: 1 },
  { city: 'Salt Lake City', country: 'us', state: 'UT', lat: 40.76, lon: -111.89, utcOffsetH: -7, currency: 'USD', weight: 1 },
  { city: 'Nashville', country: 'us', state: 'TN', lat: 36.16, lon: -86.78, utcOffsetH: -6, currency: 'USD', weight: 1 },
  { city: 'Raleigh', country: 'us', state: 'NC', lat: 35.78, lon: -78.64, utcOffsetH: -5, currency: 'USD', weight: 1 },
  { city: 'London', country: 'gb', lat: 51.51, lon: -0.13, utcOffsetH: 0, currency: 'GBP', weight: 4.5 },
  { city: 'Manchester', country: 'gb', lat: 53.48, lon: -2.24, utcOffsetH: 0, currency: 'GBP', weight: 1.4 },
  { city: 'Edinburgh', country: 'gb', lat: 55.95, lon: -3.19, utcOffsetH: 0, currency: 'GBP', weight: 1 },
  { city: 'Bristol', country: 'gb', lat: 51.45, lon: -2.59, utcOffsetH: 0, currency: 'GBP', weight: 0.9 },
  { city: 'Birmingham', country: 'gb', lat: 52.49, lon: -1.89, utcOffsetH: 0, currency: 'GBP', weight: 0.8 },
  { city: 'Toronto', country: 'ca', state: 'ON', lat: 43.65, lon: -79.38, utcOffsetH: -5, currency: 'CAD', weight: 2.6 },
  { city: 'Vancouver', country: 'ca', state: 'BC', lat: 49.28, lon: -123.12, utcOffsetH: -8, currency: 'CAD', weight: 1.5 },
  { city: 'Montreal', country: 'ca', state: 'QC', lat: 45.5, lon: -73.57, utcOffsetH: -5, currency: 'CAD', weight: 0.9 },
  { city: 'Calgary', country: 'ca', state: 'AB', lat: 51.05, lon: -114.07, utcOffsetH: -7, currency: 'CAD', weight: 0.6 },
  { city: 'Sydney', country: 'au', state: 'NSW', lat: -33.87, lon: 151.21, utcOffsetH: 10, currency: 'AUD', weight: 2 },
  { city: 'Melbourne', country: 'au', state: 'VIC', lat: -37.81, lon: 144.96, utcOffsetH: 10, currency: 'AUD', weight: 1.6 },
  { city: 'Brisbane', country: 'au', state: 'QLD', lat: -27.47, lon: 153.03, utcOffsetH: 10, currency: 'AUD', weight: 0.6 },
  { city: 'Berlin', country: 'de', lat: 52.52, lon: 13.4, utcOffsetH: 1, currency: 'EUR', weight: 1.2 },
  { city: 'Paris', country: 'fr', lat: 48.86, lon: 2.35, utcOffsetH: 1, currency: 'EUR', weight: 0.9 },
  { city: 'Amsterdam', country: 'nl', lat: 52.37, lon: 4.9, utcOffsetH: 1, currency: 'EUR', weight: 0.7 },
  { city: 'Dublin', country: 'ie', lat: 53.35, lon: -6.26, utcOffsetH: 0, currency: 'EUR', weight: 0.7 },
  { city: 'Madrid', country: 'es', lat: 40.42, lon: -3.7, utcOffsetH: 1, currency: 'EUR', weight: 0.5 },
  { city: 'Stockholm', country: 'se', lat: 59.33, lon: 18.07, utcOffsetH: 1, currency: 'SEK', weight: 0.3 },
  { city: 'Zurich', country: 'ch', lat: 47.37, lon: 8.54, utcOffsetH: 1, currency: 'CHF', weight: 0.3 },
  { city: 'Hong Kong', country: 'hk', lat: 22.28, lon: 114.16, utcOffsetH: 8, currency: 'HKD', weight: 0.9 },
  { city: 'Singapore', country: 'sg', lat: 1.29, lon: 103.85, utcOffsetH: 8, currency: 'SGD', weight: 0.6 },
  { city: 'Tokyo', country: 'jp', lat: 35.68, lon: 139.69, utcOffsetH: 9, currency: 'JPY', weight: 0.6 },
  { city: 'Seoul', country: 'kr', lat: 37.57, lon: 126.98, utcOffsetH: 9, currency: 'KRW', weight: 0.3 },
  { city: 'Shanghai', country: 'cn', lat: 31.23, lon: 121.47, utcOffsetH: 8, currency: 'CNY', weight: 0.4 },
  { city: 'Bangalore', country: 'in', lat: 12.97, lon: 77.59, utcOffsetH: 5.5, currency: 'INR', weight: 0.8 },
  { city: 'Mumbai', country: 'in', lat: 19.08, lon: 72.88, utcOffsetH: 5.5, currency: 'INR', weight: 0.5 },
  { city: 'Dubai', country: 'ae', lat: 25.2, lon: 55.27, utcOffsetH: 4, currency: 'AED', weight: 0.6 },
  { city: 'Tel Aviv', country: 'il', lat: 32.09, lon: 34.78, utcOffsetH: 2, currency: 'ILS', weight: 0.4 },
  { city: 'Mexico City', country: 'mx', lat: 19.43, lon: -99.13, utcOffsetH: -6, currency: 'MXN', weight: 0.4 },
  { city: 'Auckland', country: 'nz', lat: -36.85, lon: 174.76, utcOffsetH: 12, currency: 'NZD', weight: 0.4 },
  { city: 'Bangkok', country: 'th', lat: 13.76, lon: 100.5, utcOffsetH: 7, currency: 'THB', weight: 0.3 },
];

/** Parts of venue names and addresses. */
export const VENUE_NAMES = ['Public Library', 'Community Center', 'Brewing Co.', 'Coffee House', 'Tavern', 'Park Pavilion', 'Wine Bar', 'Studio', 'Cowork Space', 'Yoga Studio', 'Trailhead', 'Rec Center', 'Pub', 'Bistro', 'Lounge', 'Hall', 'Gallery', 'Church', 'Visitor Center', 'Marina'];
export const VENUE_PREFIXES = ['Central', 'Riverside', 'The Green', 'Main Street', 'Old Town', 'Harbor', 'Union', 'Lakeside', 'Northside', 'Summit', 'Golden', 'Red Door', 'Blue Moon', 'Maple', 'Oak', 'Liberty', 'Eastside', 'Westside', 'Sunset', 'Cedar'];
export const STREETS = ['Main St', 'Broadway', 'Market Street', 'High Street', 'Park Ave', 'Oak Street', 'Elm St', '2nd Ave', 'Church Road', 'King Street', 'Queen St W', 'Mission St', 'S Fair Oaks Ave', 'Folsom Street', 'Pine St', 'Lake Shore Dr', 'Congress Ave', 'Station Road', 'Victoria St', 'Hill Road'];
